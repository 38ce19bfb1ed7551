package generator

import (
	"fmt"
	"go/types"
	"reflect"
	"strings"

	"github.com/zoogen/zoogen/generator/internal/model"
)

// sharedStores names the stores that keep values as bytes, in messages.
const sharedStores = "a shared store (LMDB, Redis)"

// codecCheck walks the results of cached method m, of types results, the
// way the runtime's codec (MessagePack, github.com/vmihailenco/msgpack/v5)
// encodes them for LMDB and Redis, and reports what does not survive the
// trip (the rules of "What a value keeps" in package
// runtime/store/codec): an unexported field, a struct with no exported
// field, a time.Time (its location), an interface value, as warnings; a
// value that cannot be encoded at all (a channel, a function, a complex
// number, a marshaler with a pointer receiver on a value msgpack cannot
// address) or decoded at all (an unexported type embedded other than as a
// struct value), as errors, since a shared store would never hold it. It
// reports whether m has no error.
func (p *parser) codecCheck(pkg *types.Package, m *model.Method, results []types.Type) bool {
	w := &codecWalker{pkg: pkg}
	for i, t := range results {
		w.index, w.result = i, typeString(t, pkg)
		w.seen = nil
		w.walk(t, "", false)
	}
	// The time.Time fields of a result make one warning, at the first.
	times := make([][]string, len(results)) // the paths of each result's time.Time fields
	for _, f := range w.findings {
		if f.time && f.path != "" {
			times[f.index] = append(times[f.index], f.path)
		}
	}
	ok := true
	for _, f := range w.findings {
		msg := "result " + f.result
		switch paths := times[f.index]; {
		case f.time && f.path == "":
			msg += " is a time.Time; " + timeLoss
		case f.time && f.path != paths[0]:
			continue // reported with the first
		case f.time && len(paths) == 1:
			msg += ": field " + f.path + " is a time.Time: " + timeLoss
		case f.time:
			msg += ": fields " + strings.Join(paths, ", ") + " are time.Time values: " + timesLoss
		case f.path != "":
			msg += ": field " + f.path + " " + f.msg
		default:
			msg += " " + f.msg
		}
		if f.fatal {
			ok = false
			p.errorf(m.Pos, m.Name, "%s", msg)
		} else {
			p.warnf(m.Pos, m.Name, "%s", msg)
		}
	}
	return ok
}

// timeLoss and timesLoss say what a shared store does to a time.Time, and
// to several.
const (
	timeLoss  = sharedStores + " keeps its instant, not its location: it comes back in time.Local (compare with Equal)"
	timesLoss = sharedStores + " keeps their instant, not their location: they come back in time.Local (compare with Equal)"
)

// codecWalker walks one method's result types; see codecCheck.
type codecWalker struct {
	pkg    *types.Package // the package types are spelled relative to
	index  int            // the result being walked, in the method's results
	result string         // its type, as messages spell it
	// seen holds the named types walked for the current result, so that a
	// recursive type is walked once and a type reached by several paths
	// is reported once, at the first.
	seen     []types.Type
	findings []codecFinding
}

// codecFinding is one thing a result loses through the codec.
type codecFinding struct {
	index  int    // the result, in the method's results
	result string // its type
	path   string // the field, from the result: Items[i].note; "" for the result itself
	msg    string // what happens to it, after "field <path>"
	fatal  bool   // an error rather than a warning
	time   bool   // a time.Time, which loses its location; msg is empty
}

func (w *codecWalker) report(path string, fatal bool, format string, args ...any) {
	w.findings = append(w.findings, codecFinding{index: w.index, result: w.result, path: path, msg: fmt.Sprintf(format, args...), fatal: fatal})
}

// walk walks a value of type t at path. addressable says whether msgpack
// sees the value as addressable (behind a pointer, a slice element, a
// field of an addressable struct), which decides whether it calls the
// pointer-receiver methods of t.
func (w *codecWalker) walk(t types.Type, path string, addressable bool) {
	if _, ok := types.Unalias(t).(*types.TypeParam); ok {
		return // known only at run time
	}
	if isNamed(t, "time", "Time") {
		w.findings = append(w.findings, codecFinding{index: w.index, result: w.result, path: path, time: true})
		return
	}
	if named, ok := types.Unalias(t).(*types.Named); ok {
		for _, s := range w.seen {
			if types.Identical(s, named) {
				return
			}
		}
		w.seen = append(w.seen, named)
	}
	switch m := marshaler(t); {
	case m == "":
	case !strings.HasPrefix(m, "*"), addressable:
		return // encoded by its own method
	default:
		w.report(path, true, "cannot be encoded: (*%s).%s has a pointer receiver, which msgpack calls only on an addressable value (behind a pointer, a slice element), so %s never stores it; give %s a value receiver, or hold the value through a pointer",
			typeString(t, w.pkg), m[1:], sharedStores, m[1:])
		return
	}
	switch u := t.Underlying().(type) {
	case *types.Basic:
		switch {
		case u.Info()&types.IsComplex != 0:
			w.report(path, true, "cannot be encoded: msgpack has no complex numbers, so %s never stores it%s", sharedStores, leaveOut(path))
		case u.Kind() == types.UnsafePointer:
			w.report(path, true, "cannot be encoded: msgpack cannot encode an unsafe.Pointer, so %s never stores it%s", sharedStores, leaveOut(path))
		}
	case *types.Pointer:
		w.walk(u.Elem(), path, true)
	case *types.Slice:
		w.walk(u.Elem(), path+"[i]", true)
	case *types.Array:
		w.walk(u.Elem(), path+"[i]", addressable)
	case *types.Map:
		w.walk(u.Key(), "key of "+cmpOr(path, "the map"), false)
		w.walk(u.Elem(), path+"[k]", false)
	case *types.Chan:
		w.report(path, true, "cannot be encoded: it is a channel (%s), so %s never stores it%s", typeString(t, w.pkg), sharedStores, leaveOut(path))
	case *types.Signature:
		w.report(path, true, "cannot be encoded: it is a function (%s), so %s never stores it%s", typeString(t, w.pkg), sharedStores, leaveOut(path))
	case *types.Interface:
		if path != "" {
			w.report(path, false, "is an interface (%s): %s decodes it into generic values (a struct comes back as a map[string]any), not its dynamic type", typeString(t, w.pkg), sharedStores)
		}
	case *types.Struct:
		w.walkStruct(t, u, path, addressable)
	}
}

// walkStruct walks the fields of struct type t, whose underlying type is u,
// as msgpack encodes them, in their order.
func (w *codecWalker) walkStruct(t types.Type, u *types.Struct, path string, addressable bool) {
	var fields []*types.Var // those msgpack encodes
	kept := false           // whether one is exported or inlined
	for i := range u.NumFields() {
		f := u.Field(i)
		tag := reflect.StructTag(u.Tag(i)).Get("msgpack")
		if name, _, _ := strings.Cut(tag, ","); name == "-" || f.Name() == "_msgpack" || f.Name() == "_" {
			continue
		}
		fields = append(fields, f)
		kept = kept || f.Exported() || f.Embedded()
	}
	if !kept && len(fields) > 0 {
		if path == "" {
			w.report("", false, "has no exported fields: %s keeps none of it, and it comes back as the zero value", sharedStores)
		} else {
			w.report(path, false, "has no exported fields (%s): %s keeps none of it, and it comes back as the zero value", typeString(t, w.pkg), sharedStores)
		}
		return
	}
	for _, f := range fields {
		fpath := f.Name()
		if path != "" {
			fpath = path + "." + f.Name()
		}
		switch {
		case f.Embedded() && !f.Exported():
			// Inlined when embedded as a struct value; otherwise encoded
			// and never decoded (reflect cannot set the unexported field).
			if _, isStruct := f.Type().Underlying().(*types.Struct); isStruct && marshaler(f.Type()) == "" {
				w.walk(f.Type(), fpath, addressable)
				continue
			}
			w.report(fpath, true, "cannot be decoded: an unexported type embedded other than as a struct value is encoded, but decoding cannot set it, so every read from %s is a miss; embed a struct value, export the type, or tag the field `msgpack:\"-\"`", sharedStores)
		case !f.Exported():
			w.report(fpath, false, "is unexported; %s does not keep it", sharedStores)
		default:
			w.walk(f.Type(), fpath, addressable)
		}
	}
}

// cmpOr returns s, or def when s is empty.
func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// leaveOut suggests leaving a field out of the encoding, for messages
// about a field ("" for the result itself).
func leaveOut(path string) string {
	if path == "" {
		return ""
	}
	return "; tag the field `msgpack:\"-\"` to leave it out"
}

// marshaler returns the name of the method msgpack v5 encodes values of
// type t with, in the order it looks for them (EncodeMsgpack,
// MarshalMsgpack, MarshalBinary, MarshalText), prefixed with "*" when only
// *T has it; "" when t has none.
func marshaler(t types.Type) string {
	isPtr := false
	if _, ok := t.Underlying().(*types.Pointer); ok {
		isPtr = true
	}
	for _, name := range []string{"EncodeMsgpack", "MarshalMsgpack", "MarshalBinary", "MarshalText"} {
		if encodesWith(types.NewMethodSet(t), name) {
			return name
		}
		if _, isIface := t.Underlying().(*types.Interface); !isPtr && !isIface && encodesWith(types.NewMethodSet(types.NewPointer(t)), name) {
			return "*" + name
		}
	}
	return ""
}

// encodesWith reports whether ms has the encoding method name, with the
// signature msgpack's interfaces give it: EncodeMsgpack(*msgpack.Encoder)
// error, or a Marshal method of no arguments returning ([]byte, error).
func encodesWith(ms *types.MethodSet, name string) bool {
	for i := range ms.Len() {
		fn, ok := ms.At(i).Obj().(*types.Func)
		if !ok || fn.Name() != name {
			continue
		}
		sig := fn.Type().(*types.Signature)
		if name == "EncodeMsgpack" {
			return sig.Params().Len() == 1 && sig.Results().Len() == 1 && isError(sig.Results().At(0).Type())
		}
		return sig.Params().Len() == 0 && sig.Results().Len() == 2 && isError(sig.Results().At(1).Type())
	}
	return false
}
