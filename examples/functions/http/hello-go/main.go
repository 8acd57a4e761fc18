// hello-go is an edge function for pgStack's http runtime: a plain Go HTTP
// server. pgStack verifies the caller's JWT and forwards the request with the
// caller's identity in X-Pgstack-Role, X-Pgstack-Sub and X-Pgstack-Claims;
// client-sent X-Pgstack-* headers never reach it. Keep it on a private
// network reachable only from pgStack, or the headers mean nothing.
package main

import (
	"encoding/json"
	"log"
	"net/http"
	"os"
	"time"
)

func main() {
	addr := ":8080"
	if p := os.Getenv("PORT"); p != "" {
		addr = ":" + p
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", hello)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	log.Printf("hello-go listening on %s", addr)
	log.Fatal(srv.ListenAndServe())
}

func hello(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name string `json:"name"`
	}
	if r.Method == http.MethodPost {
		_ = json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&in)
	}
	if in.Name == "" {
		in.Name = "world"
	}
	var claims map[string]any
	_ = json.Unmarshal([]byte(r.Header.Get("X-Pgstack-Claims")), &claims)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"message": "Hello " + in.Name + "!",
		"role":    r.Header.Get("X-Pgstack-Role"),
		"uid":     r.Header.Get("X-Pgstack-Sub"),
		"path":    r.URL.Path,
		"claims":  claims,
	})
}
