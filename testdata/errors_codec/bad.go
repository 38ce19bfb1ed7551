// Package errors_codec holds cached results the codec of the shared stores
// cannot encode or decode at all.
package errors_codec

import (
	"context"
	"strconv"
)

// Feed holds a channel and a function.
type Feed struct {
	ID      int64
	Events  chan int
	OnEvent func(int)
	Skipped chan int `msgpack:"-"`
	hidden  chan int
}

// Wave holds a complex number.
type Wave struct{ Amplitude complex128 }

// Kelvin encodes itself through a pointer receiver only.
type Kelvin struct{ deg int }

// MarshalBinary encodes k.
func (k *Kelvin) MarshalBinary() ([]byte, error) { return []byte(strconv.Itoa(k.deg)), nil }

// Reading holds a Kelvin by value.
type Reading struct{ Temp Kelvin }

type inner struct{ A int }

type secretID int

// Embeds embeds unexported types other than as a struct value.
type Embeds struct {
	*inner
	secretID
}

// Repo caches results a shared store cannot hold.
type Repo interface {
	//zoo:cache deps="feed:<id>"
	Feed(ctx context.Context, id int64) (*Feed, error)

	//zoo:cache deps="wave:<id>"
	Wave(ctx context.Context, id int64) (Wave, error)

	//zoo:cache deps="kelvin:<id>"
	Kelvin(ctx context.Context, id int64) (Kelvin, error)

	//zoo:cache deps="reading:<id>"
	Readings(ctx context.Context, id int64) (map[int64]Reading, error)

	//zoo:cache deps="ticks"
	Ticks(ctx context.Context) (<-chan int, error)

	//zoo:cache deps="embeds"
	Embeds(ctx context.Context) (Embeds, error)
}
