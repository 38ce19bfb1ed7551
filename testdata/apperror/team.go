// Package apperror is a team store shaped like mattermost's: methods return
// a concrete *AppError instead of error.
package apperror

import (
	"context"
	"errors"
)

//go:generate go tool zoogen

// AppError is the application's error as handlers see it: where it happened,
// an id for translation, an HTTP status and the cause.
type AppError struct {
	ID         string
	Where      string
	Message    string
	StatusCode int
	Err        error `msgpack:"-"`
}

// NewAppError wraps err.
func NewAppError(where, id string, status int, err error) *AppError {
	msg := id
	if err != nil {
		msg = err.Error()
	}
	return &AppError{ID: id, Where: where, Message: msg, StatusCode: status, Err: err}
}

func (e *AppError) Error() string { return e.Where + ": " + e.Message }

// Unwrap returns the cause.
func (e *AppError) Unwrap() error { return e.Err }

// ErrTeamNotFound is the cause of a lookup of a team that does not exist.
var ErrTeamNotFound = errors.New("team not found")

// Team is a team of users.
type Team struct {
	ID          string
	Name        string
	DisplayName string
	UpdateAt    int64
}

// TeamStore is the raw store.
type TeamStore interface {
	//zoo:cache deps="team:<id>" ttl=5m
	Get(ctx context.Context, id string) (*Team, *AppError)

	//zoo:cache deps="team:byname:<name>" errors=ErrTeamNotFound
	GetByName(ctx context.Context, name string) (*Team, *AppError)

	//zoo:invalidate deps="team:<team.ID>,team:byname:<team.Name>"
	Update(ctx context.Context, team *Team) (*Team, *AppError)

	//zoo:invalidate deps="team:<id>"
	Delete(ctx context.Context, id string) *AppError
}
