// Package codec is the golden case of the codec warnings: cached results
// that lose something in a shared store, and results that lose nothing.
package codec

import (
	"context"
	"strconv"
	"time"
)

// Clean loses nothing: exported fields, a field tagged out, slices, maps,
// pointers and a marshaler.
type Clean struct {
	ID      int64
	Name    string `msgpack:"name"`
	Labels  []string
	Attrs   map[string]int
	Next    *Clean // recursive
	Temp    Celsius
	cache   []byte `msgpack:"-"`
	Nothing struct{}
}

// Celsius encodes itself, unexported field and all.
type Celsius struct{ deg int }

// MarshalText encodes c.
func (c Celsius) MarshalText() ([]byte, error) { return []byte(strconv.Itoa(c.deg)), nil }

// UnmarshalText decodes c.
func (c *Celsius) UnmarshalText(b []byte) error {
	n, err := strconv.Atoi(string(b))
	c.deg = n
	return err
}

// Kelvin encodes itself through a pointer receiver: fine wherever msgpack
// can take its address.
type Kelvin struct{ deg int }

// MarshalBinary encodes k.
func (k *Kelvin) MarshalBinary() ([]byte, error) { return []byte(strconv.Itoa(k.deg)), nil }

// UnmarshalBinary decodes k.
func (k *Kelvin) UnmarshalBinary(b []byte) error {
	n, err := strconv.Atoi(string(b))
	k.deg = n
	return err
}

// Account has an unexported field, and nests types that have some.
type Account struct {
	ID     int64
	secret string
	Owner  *Owner
	Items  []Item
	ByName map[string]Item
	Base
	audit
	Tree *Node
}

// Owner has an unexported field.
type Owner struct {
	Name  string
	email string
}

// Item has an unexported field and a time.Time.
type Item struct {
	SKU     string
	note    string
	Created time.Time
}

// Base is embedded: its fields are inlined.
type Base struct {
	Version int
	etag    string
}

// audit is embedded unexported, by value: its exported fields are kept.
type audit struct {
	By    string
	inner int
}

// Node is recursive and loses a field at every level.
type Node struct {
	Children []*Node
	label    string
}

// Opaque has no exported fields at all.
type Opaque struct{ a, b int }

// Event holds an interface value.
type Event struct {
	Kind    string
	Payload any
}

// Repo is cached with results of each kind.
type Repo interface {
	//zoo:cache deps="account:<id>"
	Clean(ctx context.Context, id int64) (*Clean, error)

	//zoo:cache deps="kelvin:<id>"
	Kelvins(ctx context.Context, id int64) ([]Kelvin, error)

	//zoo:cache deps="account:<id>"
	Account(ctx context.Context, id int64) (*Account, error)

	//zoo:cache deps="account:<id>:items"
	Items(ctx context.Context, id int64) ([]Item, int, error)

	//zoo:cache deps="opaque:<id>"
	Opaque(ctx context.Context, id int64) (Opaque, error)

	//zoo:cache deps="event:<id>"
	Event(ctx context.Context, id int64) (Event, error)

	//zoo:cache deps="clock"
	Now(ctx context.Context) (time.Time, error)

	//zoo:invalidate deps="account:<a.ID>"
	Save(ctx context.Context, a Account) error
}
