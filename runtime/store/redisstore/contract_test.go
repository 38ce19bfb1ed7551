package redisstore_test

import (
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/zoogen/zoogen/runtime/store"
	"github.com/zoogen/zoogen/runtime/store/redisstore"
	"github.com/zoogen/zoogen/runtime/store/storetest"
)

func contract(t *testing.T, client redis.UniversalClient) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s := redisstore.New(client)
		if err := s.Attach(namespace(t, client), func(store.Event) {}); err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestContract(t *testing.T) { contract(t, sharedClient(t)) }

func TestContractOnCluster(t *testing.T) { contract(t, startCluster(t, 3)) }
