package web

import "net/http"

// Handlers not yet written; each helper replaces its own.

func notYet(w http.ResponseWriter, r *http.Request) {
	http.Error(w, "not implemented yet", http.StatusNotImplemented)
}

func (s *Server) vendorsPage(w http.ResponseWriter, r *http.Request) { notYet(w, r) }
func (s *Server) vendorPage(w http.ResponseWriter, r *http.Request)  { notYet(w, r) }
func (s *Server) versionPage(w http.ResponseWriter, r *http.Request) { notYet(w, r) }
func (s *Server) changePage(w http.ResponseWriter, r *http.Request)  { notYet(w, r) }
func (s *Server) comparePage(w http.ResponseWriter, r *http.Request) { notYet(w, r) }
func (s *Server) static(w http.ResponseWriter, r *http.Request)      { notYet(w, r) }

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
