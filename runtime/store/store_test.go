package store_test

import (
	"reflect"
	"testing"

	"github.com/zoogen/zoogen/runtime/store"
)

// TestEntryIsPlainData: an Entry holds no state of a cache (atomic fields,
// a freshness memo), so stores and caches may copy it; the memory store
// keeps a cache's per-entry state beside the entry (memstore.Item).
func TestEntryIsPlainData(t *testing.T) {
	var check func(path string, typ reflect.Type)
	check = func(path string, typ reflect.Type) {
		if p := typ.PkgPath(); p == "sync/atomic" || p == "sync" || p == "github.com/zoogen/zoogen/runtime/trie" {
			t.Errorf("store.Entry%s is a %v: a cache's state, not data", path, typ)
			return
		}
		if typ.Kind() == reflect.Struct {
			for i := range typ.NumField() {
				check(path+"."+typ.Field(i).Name, typ.Field(i).Type)
			}
		}
	}
	check("", reflect.TypeFor[store.Entry]())
}
