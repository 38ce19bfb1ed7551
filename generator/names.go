package generator

import (
	"go/token"
	"strconv"
	"strings"
	"unicode"
)

// namer allocates identifiers in one scope: each name it hands out clashes
// with no name it was told is taken and none it handed out before. One
// namer serves each package (holder structs, import names, beside what the
// package declares) and each generated function (receiver and locals,
// beside the parameters the user named).
//
// The suffix rule is the same everywhere: base if it is free, else base
// followed by the smallest number from 1 up that makes it free (_r, _r1,
// _r2; zoo, zoo1). The zero value is an empty scope, ready to use.
type namer struct {
	taken map[string]bool
}

// newNamer returns a namer for a scope in which names are already taken.
func newNamer(taken ...string) *namer {
	n := &namer{}
	n.reserve(taken...)
	return n
}

// reserve marks names as taken without handing them out.
func (n *namer) reserve(names ...string) {
	if n.taken == nil {
		n.taken = map[string]bool{}
	}
	for _, name := range names {
		n.taken[name] = true
	}
}

// isTaken reports whether name is taken in the scope.
func (n *namer) isTaken(name string) bool { return n.taken[name] }

// fresh returns base, or base with the smallest number from 1 up appended,
// whichever is free, and marks it taken. A base that is not a Go
// identifier (a package name guessed from an import path such as
// gopkg.in/yaml.v3) is made one first: yaml_v3.
func (n *namer) fresh(base string) string {
	base = identifier(base)
	name := base
	for i := 1; n.isTaken(name); i++ {
		name = base + strconv.Itoa(i)
	}
	n.reserve(name)
	return name
}

// identifier returns s if it is a Go identifier, else s with every
// character that cannot be in one replaced by '_', and '_' put before a
// leading digit or after a keyword.
func identifier(s string) string {
	if token.IsIdentifier(s) {
		return s
	}
	s = strings.Map(func(r rune) rune {
		if r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) {
			return r
		}
		return '_'
	}, s)
	if s == "" || unicode.IsDigit([]rune(s)[0]) {
		s = "_" + s
	}
	if token.IsKeyword(s) {
		s += "_"
	}
	return s
}
