package compare

import (
	"sync"
	"unsafe"

	zoo "github.com/zoogen/zoogen/runtime"

	"github.com/zoogen/zoogen/bench/shop"
)

// productSpec names shop.ProductRepo.GetProduct as the generated decorator
// does.
var productSpec = zoo.MethodSpec{
	Package:   "github.com/zoogen/zoogen/bench/shop",
	Interface: "ProductRepo",
	Method:    "GetProduct",
	TTL:       shop.TTL,
}

// keyPrefix returns the prefix of the keys the generated decorator builds
// for GetProduct: namespace, package, interface and method.
var keyPrefix = sync.OnceValue(func() string {
	c, err := zoo.New()
	if err != nil {
		panic(err) // New fails only for bad options, and there are none.
	}
	defer c.Close()
	return string(c.Method(productSpec).Key(nil))
})

// AppendKey appends the key of GetProduct(oid, sid, pid) to dst: the very
// bytes the generated decorator looks up, so that every library hashes and
// compares keys of the same length and shape.
func AppendKey(dst []byte, oid, sid, pid int64) []byte {
	dst = append(dst, keyPrefix()...)
	return zoo.KeyInt(zoo.KeyInt(zoo.KeyInt(dst, oid), sid), pid)
}

// appendStorePrefix appends the prefix shared by the keys of every product of
// store (oid, sid).
func appendStorePrefix(dst []byte, oid, sid int64) []byte {
	dst = append(dst, keyPrefix()...)
	return zoo.KeyInt(zoo.KeyInt(dst, oid), sid)
}

// storeTag is the dependency tag of every product of store (oid, sid), as
// zoogen builds it from the annotation's "org:<oid>:store:<sid>:…".
func storeTag(oid, sid int64) string { return zoo.Tag("org", oid, "store", sid) }

// view returns b as a string without copying it, for calls that read the
// key and do not keep it: the caller builds keys in a stack buffer, as the
// generated decorator does. A call that may store the key gets string(b).
func view(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
