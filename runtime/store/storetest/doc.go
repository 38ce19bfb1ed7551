// Package storetest checks that a [store.Store] keeps the contract the cache
// relies on.
//
// Every backend runs the same suite from its own tests:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store {
//			s, err := memstore.New()
//			if err != nil {
//				t.Fatal(err)
//			}
//			return s
//		})
//	}
//
// A store that implements [store.Shared] (Redis, LMDB) is checked against
// that contract too: its clock, the versions of its invalidations, GetFresh
// along the path of each tag, and pruning that never makes an invalidated
// entry fresh again; one that implements [store.Locker], against the
// exclusion of its locks; one that implements [store.StaleReader], against
// keeping an entry past its Expires until its Retain (and, when shared,
// never returning one an invalidation made stale). Those subtests are
// skipped for other stores.
//
// [Run] asks for a fresh store in every subtest and closes it when the
// subtest ends. It never sleeps and never moves a clock: a backend whose
// expiry runs elsewhere (a Redis server) passes it as well as one that can be
// given a fake clock. Keys are prefixed with the subtest's name, so stores
// made over one shared server do not see each other's entries.
//
// Byte stores return a Value as a codec.Raw. The suite does not import the
// codec: a returned Value with a method Decode(any) error is decoded into a
// new value of the type that was set, and that value is compared.
package storetest
