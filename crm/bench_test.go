package crm_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/celbridge/celbridge"
	"github.com/celbridge/celbridge/crm"
)

func BenchmarkEncode(b *testing.B) {
	e := incoming(celbridge.Received)
	b.ReportAllocs()
	for b.Loop() {
		_ = celbridge.EncodeForm(e.Fields("3041"))
	}
}

func BenchmarkPush(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	c := &crm.Client{URL: srv.URL + "/api/Binotel/Push", CompanyID: "3041", Headers: map[string]string{"Authorization": "Bearer x"}}
	e := incoming(celbridge.Received)
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Push(b.Context(), e); err != nil {
			b.Fatal(err)
		}
	}
}
