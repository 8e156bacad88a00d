package web

import "net/http"

// Replaced by api.go and feeds.go.

func (s *Server) apiVendors(w http.ResponseWriter, r *http.Request)  { notYet(w, r) }
func (s *Server) apiVendor(w http.ResponseWriter, r *http.Request)   { notYet(w, r) }
func (s *Server) apiVersions(w http.ResponseWriter, r *http.Request) { notYet(w, r) }
func (s *Server) apiVersion(w http.ResponseWriter, r *http.Request)  { notYet(w, r) }
func (s *Server) apiDiff(w http.ResponseWriter, r *http.Request)     { notYet(w, r) }
func (s *Server) apiChanges(w http.ResponseWriter, r *http.Request)  { notYet(w, r) }
func (s *Server) apiChange(w http.ResponseWriter, r *http.Request)   { notYet(w, r) }
func (s *Server) apiNotFound(w http.ResponseWriter, r *http.Request) { notYet(w, r) }

func (s *Server) feedChanges(w http.ResponseWriter, r *http.Request)  { notYet(w, r) }
func (s *Server) feedVendor(w http.ResponseWriter, r *http.Request)   { notYet(w, r) }
func (s *Server) feedSeverity(w http.ResponseWriter, r *http.Request) { notYet(w, r) }
