package generator

import (
	"time"

	"github.com/zoogen/zoogen/generator/internal/model"
)

// refreshOptions reads the refresh= and stale-if-error= options of a
// cached method, whose ttl= and errors= are read already, into m. It
// reports whether they are valid.
func (p *parser) refreshOptions(m *model.Method, ann *annotation) bool {
	ok := true
	if o := ann.option("refresh"); o != nil {
		d, valid := p.window(o, m.Name, "refresh")
		switch {
		case !valid:
			ok = false
		case m.TTL > 0 && d >= m.TTL:
			p.errorf(o.valuePos, m.Name, "refresh %q is not shorter than ttl %v: an entry would expire before it is refreshed (want refresh < ttl)", o.value, m.TTL)
			ok = false
		case len(m.CacheErrors) > 0 && m.Error.Interface:
			// The loader hands the repository's own error to the caller
			// whose load ran; a background reload has no such caller.
			p.errorf(o.pos, m.Name, "refresh= cannot be combined with errors= on a method whose error result is an interface: a background reload has no caller to return the repository's own error to")
			ok = false
		default:
			m.Refresh = d
		}
	}
	if o := ann.option("stale-if-error"); o != nil {
		if d, valid := p.window(o, m.Name, "stale-if-error"); valid {
			m.StaleIfError = d
		} else {
			ok = false
		}
	}
	return ok
}

// window parses the duration of option o, which must be positive and no
// longer than the runtime keeps an entry.
func (p *parser) window(o *option, method, name string) (time.Duration, bool) {
	d, err := time.ParseDuration(o.value)
	switch {
	case err != nil:
		p.errorf(o.valuePos, method, "%s %q is not a duration (want a Go duration such as 90s, 10m or 1h30m)", name, o.value)
	case d <= 0:
		p.errorf(o.valuePos, method, "%s %q is not positive", name, o.value)
	case d > maxTTL:
		p.errorf(o.valuePos, method, "%s %q is longer than 100 years (876000h), the longest the runtime keeps an entry", name, o.value)
	default:
		return d, true
	}
	return 0, false
}
