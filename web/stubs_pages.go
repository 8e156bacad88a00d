package web

import "net/http"

// Replaced by pages.go.

func (s *Server) vendorsPage(w http.ResponseWriter, r *http.Request) { notYet(w, r) }
func (s *Server) vendorPage(w http.ResponseWriter, r *http.Request)  { notYet(w, r) }
func (s *Server) versionPage(w http.ResponseWriter, r *http.Request) { notYet(w, r) }
func (s *Server) changePage(w http.ResponseWriter, r *http.Request)  { notYet(w, r) }
func (s *Server) comparePage(w http.ResponseWriter, r *http.Request) { notYet(w, r) }
func (s *Server) static(w http.ResponseWriter, r *http.Request)      { notYet(w, r) }
