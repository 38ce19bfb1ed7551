package redisstore

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

// A Redis that restarted from an old snapshot, or a replica promoted while
// behind its master, holds versions older than invalidations it
// acknowledged. The scripts tell such a server from the one that issued the
// versions by its run_id (see epoch in scripts.go) and start a new epoch.
// Strict reads run no script; they rely on this: a client reaches a
// restarted or promoted server only over a connection it dialed since, so a
// strict read made after a new dial is not trusted until a script has
// checked the server.

// serverChecks bounds the reads a strict read makes while connections
// keep being dialed under it (the pool growing, the subscription
// reconnecting): past it, the read is a miss.
const serverChecks = 3

// dialCounter is a go-redis hook counting the connections a client dials.
// On the node clients of a cluster client it also counts the changes of
// the slots' masters it sees in CLUSTER SLOTS replies (the cluster client
// reloads them after a failover, before it routes a command by them): a
// promoted replica may be reached over a connection dialed before its
// promotion, and its shards must be checked as those of a new server.
type dialCounter struct {
	n     atomic.Uint64
	slots atomic.Pointer[string] // the masters of the slots, last seen
}

func (d *dialCounter) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := next(ctx, network, addr)
		if err == nil {
			d.n.Add(1)
		}
		return conn, err
	}
}

func (d *dialCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if cs, ok := cmd.(*redis.ClusterSlotsCmd); ok && err == nil {
			d.sawSlots(cs.Val())
		}
		return err
	}
}

// sawSlots counts a change of the slots' masters as a dial.
func (d *dialCounter) sawSlots(slots []redis.ClusterSlot) {
	parts := make([]string, 0, len(slots))
	for _, sl := range slots {
		if len(sl.Nodes) > 0 {
			parts = append(parts, fmt.Sprintf("%d-%d=%s", sl.Start, sl.End, sl.Nodes[0].Addr))
		}
	}
	slices.Sort(parts)
	sig := strings.Join(parts, ",")
	if old := d.slots.Swap(&sig); old == nil || *old != sig {
		d.n.Add(1)
	}
}

func (d *dialCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// hookNodes hooks a cluster client's node clients (hookNode): those it
// creates from now on (OnNewNode, in New) and those it has.
func (s *Store) hookNodes(ctx context.Context) {
	cc, ok := s.client.(*redis.ClusterClient)
	if !ok {
		return
	}
	_ = cc.ForEachShard(ctx, func(ctx context.Context, c *redis.Client) error {
		s.hookNode(c)
		return nil
	})
}

// hookNode adds the dial counter and a breaker of its own to one node's
// client, once.
func (s *Store) hookNode(c *redis.Client) {
	if _, dup := s.hooked.LoadOrStore(c, true); !dup {
		c.AddHook(s.dials)
		c.AddHook(newNodeBreaker(c.Options().Addr, s.logger))
	}
}

// serverChecked reports whether a read made over the connections dialed
// so far can be trusted. When one of them is new, it checks every shard
// first (revive runs the epoch check, starting a new epoch in a shard
// whose server lost state) and reports false: the caller reads again. On
// a cluster the new connection may lead to any node; every shard is
// checked, in one pipelined round trip.
func (s *Store) serverChecked(ctx context.Context) (bool, error) {
	n := s.dials.n.Load()
	if n <= s.checkedDials.Load() {
		return true, nil
	}
	// One check at a time: a burst of reads while the pool grows makes
	// one check, not one each.
	s.checking.Lock()
	defer s.checking.Unlock()
	if n <= s.checkedDials.Load() {
		return false, nil // checked meanwhile: read again
	}
	n = s.dials.n.Load()
	k := s.currentKeys()
	err := s.do(ctx, func(ctx context.Context) error {
		_, err := s.reviveSome(ctx, k, allShards, true)
		return err
	})
	if err != nil {
		return false, err
	}
	s.checkedDials.Store(n)
	return false, nil
}

// versionsKept reports whether the versions a strict read fetched (each
// shard's horizon first) can be trusted: the server is checked
// (serverChecked) and every shard read has its horizon. A shard without it
// lost its versions (evicted, deleted, a server restarted empty): it
// starts a new epoch and versionsKept reports false, and the caller reads
// again.
func (s *Store) versionsKept(ctx context.Context, k keys, p *plan, versions []*redis.StringSliceCmd) (bool, error) {
	if lost := lostShards(p, versions); len(lost) > 0 {
		return false, s.do(ctx, func(ctx context.Context) error { return s.revive(ctx, k, lost) })
	}
	return s.serverChecked(ctx)
}
