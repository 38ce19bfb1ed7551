package generator

import (
	"iter"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/zoogen/zoogen/generator/internal/model"
)

// annotationPrefix starts every annotation comment.
const annotationPrefix = "//zoo:"

// verbs are the annotations and the options each takes.
var verbs = map[string][]string{
	"cache":      {"deps", "key", "ttl", "errors", "copy", "each", "refresh", "stale-if-error"},
	"invalidate": {"deps"},
}

var verbNames = []string{"cache", "invalidate"}

// annotation is one //zoo: comment, split into its verb and options.
type annotation struct {
	text string    // the comment as written
	pos  model.Pos // of the comment's first '/'
	verb string
	opts []*option
}

// option is one name=value of an annotation.
type option struct {
	name     string
	value    string    // unquoted
	pos      model.Pos // of the name
	valuePos model.Pos // of the value's first character, after any quote
}

// option returns the option called name, or nil if a has none.
func (a *annotation) option(name string) *option {
	for _, o := range a.opts {
		if o.name == name {
			return o
		}
	}
	return nil
}

// at returns the position of byte i of the comment text.
func (a *annotation) at(i int) model.Pos {
	p := a.pos
	p.Col += i
	return p
}

// parseAnnotation splits a //zoo: comment. Problems are reported through p
// against method, and make it return nil.
func (p *parser) parseAnnotation(text string, pos model.Pos, method string) *annotation {
	a := &annotation{text: text, pos: pos}
	rest := text[len(annotationPrefix):]
	i := len(annotationPrefix)
	verb := rest
	if n := strings.IndexFunc(rest, unicode.IsSpace); n >= 0 {
		verb = rest[:n]
	}
	if _, ok := verbs[verb]; !ok {
		p.errorf(a.at(i), method, "unknown annotation //zoo:%s%s; annotations are //zoo:cache and //zoo:invalidate",
			verb, suggest(verb, verbNames))
		return nil
	}
	a.verb = verb
	i += len(verb)
	ok := true
	for i < len(text) {
		if r, n := utf8.DecodeRuneInString(text[i:]); unicode.IsSpace(r) {
			i += n
			continue
		}
		start := i
		for i < len(text) && text[i] != '=' && !spaceAt(text, i) {
			i++
		}
		name := text[start:i]
		if i >= len(text) || text[i] != '=' {
			p.errorf(a.at(start), method, "option %q has no value (write %s=...)", name, name)
			ok = false
			continue
		}
		i++ // '='
		o := &option{name: name, pos: a.at(start), valuePos: a.at(i)}
		if i < len(text) && text[i] == '"' {
			quoted, err := strconv.QuotedPrefix(text[i:])
			if err != nil {
				p.errorf(a.at(i), method, "option %s: unterminated quoted value %s", name, text[i:])
				return nil
			}
			o.value, _ = strconv.Unquote(quoted)
			o.valuePos = a.at(i + 1)
			i += len(quoted)
		} else {
			vstart := i
			for i < len(text) && !spaceAt(text, i) {
				i++
			}
			o.value = text[vstart:i]
		}
		allowed := verbs[verb]
		switch {
		case !slices.Contains(allowed, name):
			p.errorf(o.pos, method, "unknown option %q for //zoo:%s%s; its options are %s",
				name, verb, suggest(name, allowed), strings.Join(allowed, ", "))
			ok = false
		case a.option(name) != nil:
			p.errorf(o.pos, method, "option %s given twice", name)
			ok = false
		case o.value == "":
			p.errorf(o.valuePos, method, "option %s has an empty value", name)
			ok = false
		default:
			a.opts = append(a.opts, o)
		}
	}
	if !ok {
		return nil
	}
	return a
}

// spaceAt reports whether a white-space character starts at byte i of s.
// Characters, not bytes: 0x85 and 0xA0 are spaces as runes but also occur
// inside other characters' UTF-8 encodings (à is 0xC3 0xA0).
func spaceAt(s string, i int) bool {
	r, _ := utf8.DecodeRuneInString(s[i:])
	return unicode.IsSpace(r)
}

// rawSegment is one segment of a tag template before it is resolved
// against the method's parameters.
type rawSegment struct {
	text  string
	param []string // param, then fields: <q.ProductID> is [q ProductID]
	pos   model.Pos
}

// items splits an option's comma-separated value into its items, each
// trimmed of spaces, with the offset of the item in the value.
func items(value string) iter.Seq2[string, int] {
	return func(yield func(string, int) bool) {
		off := 0
		for item := range strings.SplitSeq(value, ",") {
			start := off
			off += len(item) + 1
			trimmed := strings.TrimSpace(item)
			if !yield(trimmed, start+strings.Index(item, trimmed)) {
				return
			}
		}
	}
}

// parseRef splits the inside of a <ref> into its name and fields, or
// returns nil if it is not a reference.
func parseRef(ref string) []string {
	path := strings.Split(ref, ".")
	if slices.Contains(path, "") || strings.ContainsAny(ref, "<> ") {
		return nil
	}
	return path
}

// parseDeps splits a deps value into tags and segments.
func (p *parser) parseDeps(o *option, method string) ([][]*rawSegment, []string, bool) {
	var tags [][]*rawSegment
	var templates []string
	ok := true
	for trimmed, tagOff := range items(o.value) {
		if trimmed == "" {
			p.errorf(valueAt(o, tagOff), method, "deps %q: empty tag", o.value)
			ok = false
			continue
		}
		var segs []*rawSegment
		segOff := tagOff
		for seg := range strings.SplitSeq(trimmed, ":") {
			pos := valueAt(o, segOff)
			segOff += len(seg) + 1
			open := strings.IndexByte(seg, '<')
			closing := strings.IndexByte(seg, '>')
			switch {
			case seg == "":
				p.errorf(pos, method, "deps %q: empty segment in tag %q", o.value, trimmed)
				ok = false
			case open < 0 && closing < 0:
				segs = append(segs, &rawSegment{text: seg, pos: pos})
			case open >= 0 && closing < 0:
				p.errorf(valueAt(o, segOff-len(seg)-1+open), method, "deps %q: unterminated < in segment %q (want <name>)", o.value, seg)
				ok = false
			case open != 0 || closing != len(seg)-1:
				p.errorf(pos, method, "deps %q: segment %q mixes text and a parameter; a parameter fills a whole segment (write product:<id>, not product-<id>)", o.value, seg)
				ok = false
			default:
				path := parseRef(seg[1 : len(seg)-1])
				if path == nil {
					p.errorf(pos, method, "deps %q: %q is not a parameter reference (want <name> or <name.Field>)", o.value, seg)
					ok = false
					continue
				}
				segs = append(segs, &rawSegment{param: path, pos: pos})
			}
		}
		tags = append(tags, segs)
		templates = append(templates, trimmed)
	}
	return tags, templates, ok
}

// parseKey splits a key value into its references: <name> or
// <name.Field>, separated by commas, none twice.
func (p *parser) parseKey(o *option, method string) ([]*rawSegment, bool) {
	var refs []*rawSegment
	ok := true
	seen := map[string]bool{}
	for item, off := range items(o.value) {
		pos := valueAt(o, off)
		var path []string
		if len(item) > 2 && item[0] == '<' && item[len(item)-1] == '>' {
			path = parseRef(item[1 : len(item)-1])
		}
		switch {
		case item == "":
			p.errorf(pos, method, "key %q: empty item (want <name> or <name.Field>, separated by commas)", o.value)
			ok = false
		case path == nil:
			hint := ""
			if parseRef(item) != nil {
				hint = " (a bare field, key=ID, names the field of a batch read's values and goes with each=)"
			}
			p.errorf(pos, method, "key %q: %q is not a reference; key= lists the values that identify a call, as <name> or <name.Field>, separated by commas%s", o.value, item, hint)
			ok = false
		case seen[item]:
			p.errorf(pos, method, "key %q: %s is listed twice", o.value, item)
			ok = false
		default:
			seen[item] = true
			refs = append(refs, &rawSegment{param: path, pos: pos})
		}
	}
	return refs, ok
}

// valueAt returns the position of byte off of an option's value. Quoted
// values are assumed free of escapes, which tag templates are.
func valueAt(o *option, off int) model.Pos {
	p := o.valuePos
	p.Col += off
	return p
}
