package web

import "net/http"

// notYet answers routes whose handlers are still being written.
func notYet(w http.ResponseWriter, r *http.Request) {
	http.Error(w, "not implemented yet", http.StatusNotImplemented)
}
