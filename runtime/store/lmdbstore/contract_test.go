package lmdbstore_test

import (
	"testing"

	"github.com/zoogen/zoogen/runtime/store"
	"github.com/zoogen/zoogen/runtime/store/lmdbstore"
	"github.com/zoogen/zoogen/runtime/store/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := lmdbstore.Open(t.TempDir(), lmdbstore.WithLogger(quiet()))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Attach("contract", func(store.Event) {}); err != nil {
			t.Fatal(err)
		}
		return s
	})
}
