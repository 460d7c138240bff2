package enrich

// The compiled AS table: an AS CSV ("start,end,asn,org", ip-location-db's
// 515,000 rows) read once and written as a table of sorted, disjoint
// ranges that is memory-mapped and searched in place, so that a run pays
// neither the CSV's parsing (0.5 s) nor its memory (170 MB).
//
// Where: next to the CSV (NAME.csv -> NAME.csv.loganom-asn); when that
// directory is not writable, in the user's cache directory
// (loganom/asn/HASH-NAME.csv.loganom-asn, HASH from the CSV's absolute
// path); when neither is, the table is built in memory for the run.
//
// Fresh: the table records the CSV's size, modification time, change time
// (ctime: set by the kernel on every write, rename or touch, and that no
// user can set back), inode, and a hash of its first and last 64 KiB. A
// table is used only when all of them still match; else it is rebuilt.
// A table built less than two seconds after the CSV's last change is
// "racy" (a write in the same timestamp tick could go unseen, as in git's
// index) and is rebuilt at the next run. Hashing the whole CSV at each run
// would cost 5 to 10 ms, as much as the rest of a small run; the stat
// fields and the head and tail cost microseconds.
//
// Safe: a table is written to a temporary file, synced and renamed into
// place; two processes building at once each rename a complete table. A
// table is checked before use (magic, version, sizes, CRC-32C of its
// header and its body): a truncated or damaged one is rebuilt. Lookups
// check every index and offset, so even a table whose checks passed by
// chance gives wrong answers, never a panic.

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// TableSuffix is added to a CSV's name to name its compiled table.
const TableSuffix = ".loganom-asn"

const (
	tableMagic  = "LGASNTB\x01" // the last byte is the format's version
	headerSize  = 128
	racyWindow  = 2 * time.Second
	headTailLen = 64 << 10
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ASNOptions says where compiled tables go.
type ASNOptions struct {
	// CacheDir is where a table goes when the CSV's directory is not
	// writable; empty: loganom/asn in the user's cache directory.
	CacheDir string
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// ASNSource says how one CSV was read.
type ASNSource struct {
	CSV   string
	Table string        // the compiled table used; empty when built in memory
	Built bool          // compiled in this run
	Took  time.Duration // the time compiling took
	Why   string        // why it was compiled: "no table", "the CSV changed", "damaged: …"
	// NotKept is why the table could not be written anywhere (the run
	// goes on with it in memory, and the next run compiles it again).
	NotKept error
	Rows    int
}

// fingerprint identifies a CSV's content without reading all of it.
type fingerprint struct {
	size, mtime, ctime int64
	ino                uint64
	headTail           [16]byte
}

func fingerprintOf(f *os.File) (fingerprint, error) {
	fi, err := f.Stat()
	if err != nil {
		return fingerprint{}, err
	}
	fp := fingerprint{size: fi.Size(), mtime: fi.ModTime().UnixNano()}
	fp.ctime, fp.ino = ctimeIno(fi)
	h := sha256.New()
	buf := make([]byte, headTailLen)
	n, err := f.ReadAt(buf, 0)
	if err != nil && err != io.EOF {
		return fp, err
	}
	h.Write(buf[:n])
	if fp.size > headTailLen {
		off := max(fp.size-headTailLen, headTailLen)
		n, err := f.ReadAt(buf, off)
		if err != nil && err != io.EOF {
			return fp, err
		}
		h.Write(buf[:n])
	}
	copy(fp.headTail[:], h.Sum(nil))
	return fp, nil
}

// changed is when the CSV last changed, as far as its stat tells.
func (fp fingerprint) changed() int64 {
	if fp.ctime != 0 {
		return fp.ctime
	}
	return fp.mtime
}

// asnTable is a compiled table over its bytes (mapped, or in memory).
type asnTable struct {
	data    []byte
	unmap   func() error
	fp      fingerprint
	built   int64
	rows    uint32
	n4, n6  int
	nEnt    int
	v4s     []byte // [n4]uint32 LE starts
	v4e     []byte // ends
	v4x     []byte // entry indexes
	v6s     []byte // [n6][16]byte big-endian starts
	v6e     []byte
	v6x     []byte
	ents    []byte // [nEnt]{asn, org offset, org length uint32}
	orgs    []byte
	bodyCRC uint32
}

// header layout (little-endian):
//
//	0  magic [8]
//	8  CSV size, 16 mtime ns, 24 ctime ns, 32 inode (8 bytes each)
//	40 hash of the CSV's head and tail [16]
//	56 build time ns [8]
//	64 rows, n4, n6, entries, org bytes, body CRC-32C (4 bytes each)
//	88 zero …
//	124 header CRC-32C of bytes 0-123
func (t *asnTable) header() []byte {
	h := make([]byte, headerSize)
	copy(h, tableMagic)
	le := binary.LittleEndian
	le.PutUint64(h[8:], uint64(t.fp.size))
	le.PutUint64(h[16:], uint64(t.fp.mtime))
	le.PutUint64(h[24:], uint64(t.fp.ctime))
	le.PutUint64(h[32:], t.fp.ino)
	copy(h[40:56], t.fp.headTail[:])
	le.PutUint64(h[56:], uint64(t.built))
	le.PutUint32(h[64:], t.rows)
	le.PutUint32(h[68:], uint32(t.n4))
	le.PutUint32(h[72:], uint32(t.n6))
	le.PutUint32(h[76:], uint32(t.nEnt))
	le.PutUint32(h[80:], uint32(len(t.orgs)))
	le.PutUint32(h[84:], t.bodyCRC)
	le.PutUint32(h[124:], crc32.Checksum(h[:124], castagnoli))
	return h
}

var errDamaged = errors.New("damaged")

// parseHeader reads a header and returns the body's expected size.
func parseHeader(h []byte) (t *asnTable, body uint64, orgLen uint32, err error) {
	if len(h) < headerSize {
		return nil, 0, 0, fmt.Errorf("%w: truncated (%d bytes)", errDamaged, len(h))
	}
	if string(h[:7]) != tableMagic[:7] {
		return nil, 0, 0, fmt.Errorf("%w: not a loganom AS table", errDamaged)
	}
	if h[7] != tableMagic[7] {
		return nil, 0, 0, fmt.Errorf("%w: format version %d, not %d", errDamaged, h[7], tableMagic[7])
	}
	le := binary.LittleEndian
	if crc32.Checksum(h[:124], castagnoli) != le.Uint32(h[124:]) {
		return nil, 0, 0, fmt.Errorf("%w: bad header checksum", errDamaged)
	}
	t = &asnTable{}
	t.fp.size = int64(le.Uint64(h[8:]))
	t.fp.mtime = int64(le.Uint64(h[16:]))
	t.fp.ctime = int64(le.Uint64(h[24:]))
	t.fp.ino = le.Uint64(h[32:])
	copy(t.fp.headTail[:], h[40:56])
	t.built = int64(le.Uint64(h[56:]))
	t.rows = le.Uint32(h[64:])
	n4, n6, ne := uint64(le.Uint32(h[68:])), uint64(le.Uint32(h[72:])), uint64(le.Uint32(h[76:]))
	orgLen = le.Uint32(h[80:])
	t.bodyCRC = le.Uint32(h[84:])
	body = n4*12 + n6*36 + ne*12 + uint64(orgLen) // < 2^39: no overflow
	if body > math.MaxInt-headerSize {
		return nil, 0, 0, fmt.Errorf("%w: too large", errDamaged)
	}
	t.n4, t.n6, t.nEnt = int(n4), int(n6), int(ne)
	return t, body, orgLen, nil
}

// slice points the table's sections into data, whose size is checked.
func (t *asnTable) slice(data []byte, body uint64, orgLen uint32) error {
	if uint64(len(data)) != headerSize+body {
		return fmt.Errorf("%w: %d bytes, want %d (truncated?)", errDamaged, len(data), headerSize+body)
	}
	t.data = data
	b := data[headerSize:]
	take := func(n int) []byte { s := b[:n:n]; b = b[n:]; return s }
	t.v4s, t.v4e, t.v4x = take(4*t.n4), take(4*t.n4), take(4*t.n4)
	t.v6s, t.v6e, t.v6x = take(16*t.n6), take(16*t.n6), take(4*t.n6)
	t.ents = take(12 * t.nEnt)
	t.orgs = take(int(orgLen))
	return nil
}

// tableFromBytes reads a table held in memory; verify checks its body's
// checksum (the fuzz test reads unchecked ones too).
func tableFromBytes(data []byte, verify bool) (*asnTable, error) {
	t, body, orgLen, err := parseHeader(data)
	if err != nil {
		return nil, err
	}
	if err := t.slice(data, body, orgLen); err != nil {
		return nil, err
	}
	if verify && crc32.Checksum(data[headerSize:], castagnoli) != t.bodyCRC {
		return nil, fmt.Errorf("%w: bad checksum", errDamaged)
	}
	return t, nil
}

// openTable maps a table file, checked. The body's checksum is computed
// from reads, not from the mapping, so that the run's memory holds only
// the pages its lookups touch.
func openTable(path string) (*asnTable, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	h := make([]byte, headerSize)
	if _, err := io.ReadFull(f, h); err != nil {
		return nil, fmt.Errorf("%w: truncated (%d bytes)", errDamaged, fi.Size())
	}
	t, body, orgLen, err := parseHeader(h)
	if err != nil {
		return nil, err
	}
	if uint64(fi.Size()) != headerSize+body {
		return nil, fmt.Errorf("%w: %d bytes, want %d (truncated?)", errDamaged, fi.Size(), headerSize+body)
	}
	crc := crc32.New(castagnoli)
	if n, err := io.CopyBuffer(crc, f, make([]byte, 128<<10)); err != nil || uint64(n) != body {
		return nil, fmt.Errorf("%w: reading: %v", errDamaged, err)
	}
	if crc.Sum32() != t.bodyCRC {
		return nil, fmt.Errorf("%w: bad checksum", errDamaged)
	}
	data, unmap, err := mapFile(f, int(fi.Size()))
	if err != nil {
		return nil, err
	}
	if err := t.slice(data, body, orgLen); err != nil {
		unmap()
		return nil, err
	}
	t.unmap = unmap
	return t, nil
}

func (t *asnTable) close() error {
	if t.unmap == nil {
		return nil
	}
	u := t.unmap
	t.unmap = nil
	t.v4s, t.v4e, t.v4x, t.v6s, t.v6e, t.v6x, t.ents, t.orgs = nil, nil, nil, nil, nil, nil, nil, nil
	t.n4, t.n6, t.nEnt = 0, 0, 0
	return u()
}

// lookup finds the range holding ip (unmapped). Every index is checked:
// a damaged table gives wrong answers, not a panic.
func (t *asnTable) lookup(ip netip.Addr) (asn uint32, org string, found bool) {
	le := binary.LittleEndian
	var i, x int
	if ip.Is4() {
		b := ip.As4()
		v := binary.BigEndian.Uint32(b[:])
		// the last range starting at or before v
		lo, hi := 0, t.n4
		for lo < hi {
			m := int(uint(lo+hi) >> 1)
			if le.Uint32(t.v4s[4*m:]) <= v {
				lo = m + 1
			} else {
				hi = m
			}
		}
		if i = lo - 1; i < 0 || v > le.Uint32(t.v4e[4*i:]) {
			return 0, "", false
		}
		x = int(le.Uint32(t.v4x[4*i:]))
	} else {
		b := ip.As16()
		lo, hi := 0, t.n6
		for lo < hi {
			m := int(uint(lo+hi) >> 1)
			if bytes.Compare(t.v6s[16*m:16*m+16], b[:]) <= 0 {
				lo = m + 1
			} else {
				hi = m
			}
		}
		if i = lo - 1; i < 0 || bytes.Compare(b[:], t.v6e[16*i:16*i+16]) > 0 {
			return 0, "", false
		}
		x = int(le.Uint32(t.v6x[4*i:]))
	}
	if x < 0 || x >= t.nEnt {
		return 0, "", false
	}
	e := t.ents[12*x:]
	off, n := uint64(le.Uint32(e[4:])), uint64(le.Uint32(e[8:]))
	if off+n > uint64(len(t.orgs)) {
		return le.Uint32(e), "", true
	}
	return le.Uint32(e), string(t.orgs[off : off+n]), true
}

// u128 is an address as a number: IPv4 in lo.
type u128 struct{ hi, lo uint64 }

func u128Of(a netip.Addr) u128 {
	if a.Is4() {
		b := a.As4()
		return u128{0, uint64(binary.BigEndian.Uint32(b[:]))}
	}
	b := a.As16()
	return u128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

func (a u128) cmp(b u128) int {
	if a.hi != b.hi {
		if a.hi < b.hi {
			return -1
		}
		return 1
	}
	switch {
	case a.lo < b.lo:
		return -1
	case a.lo > b.lo:
		return 1
	}
	return 0
}

func (a u128) sub(b u128) u128 {
	lo := a.lo - b.lo
	borrow := uint64(0)
	if a.lo < b.lo {
		borrow = 1
	}
	return u128{a.hi - b.hi - borrow, lo}
}

// next returns a+1, and false when a is the last address of the family.
func (a u128) next(v4 bool) (u128, bool) {
	if v4 {
		return u128{0, a.lo + 1}, a.lo < math.MaxUint32
	}
	if a.lo == math.MaxUint64 {
		return u128{a.hi + 1, 0}, a.hi < math.MaxUint64
	}
	return u128{a.hi, a.lo + 1}, true
}

type rawRange struct {
	start, end u128
	ent        uint32
	seq        int // the row's order in the CSV
}

// disjoint turns a family's ranges into sorted, disjoint ones. Where
// ranges overlap, an address belongs to the narrowest range that holds it
// (a /24 carved out of a /16), and of equal ones to the first in the CSV.
// Neighbours of the same AS and name are merged.
func disjoint(rs []rawRange, v4 bool) []rawRange {
	slices.SortStableFunc(rs, func(a, b rawRange) int { return a.start.cmp(b.start) })
	overlap := false
	for i := 1; i < len(rs); i++ {
		if rs[i].start.cmp(rs[i-1].end) <= 0 {
			overlap = true
			break
		}
	}
	if overlap {
		rs = sweep(rs, v4)
	}
	out := rs[:0]
	for _, r := range rs {
		if n := len(out); n > 0 && out[n-1].ent == r.ent {
			if nx, ok := out[n-1].end.next(v4); ok && nx == r.start {
				out[n-1].end = r.end
				continue
			}
		}
		out = append(out, r)
	}
	return out
}

// sweep cuts overlapping ranges (sorted by start) at every start and every
// end+1, and gives each piece the narrowest range holding it.
func sweep(rs []rawRange, v4 bool) []rawRange {
	points := make([]u128, 0, 2*len(rs))
	for _, r := range rs {
		points = append(points, r.start)
		if n, ok := r.end.next(v4); ok {
			points = append(points, n)
		}
	}
	slices.SortFunc(points, u128.cmp)
	points = slices.Compact(points)
	better := func(a, b rawRange) bool { // a wins over b
		if c := a.end.sub(a.start).cmp(b.end.sub(b.start)); c != 0 {
			return c < 0
		}
		return a.seq < b.seq
	}
	var active []rawRange // a binary heap, best first; ended ones are dropped lazily
	push := func(r rawRange) {
		active = append(active, r)
		for i := len(active) - 1; i > 0; {
			p := (i - 1) / 2
			if !better(active[i], active[p]) {
				break
			}
			active[i], active[p] = active[p], active[i]
			i = p
		}
	}
	pop := func() {
		n := len(active) - 1
		active[0] = active[n]
		active = active[:n]
		for i := 0; ; {
			l, b := 2*i+1, i
			if l < n && better(active[l], active[b]) {
				b = l
			}
			if l+1 < n && better(active[l+1], active[b]) {
				b = l + 1
			}
			if b == i {
				break
			}
			active[i], active[b] = active[b], active[i]
			i = b
		}
	}
	var out []rawRange
	j := 0
	for k, p := range points {
		for j < len(rs) && rs[j].start == p {
			push(rs[j])
			j++
		}
		for len(active) > 0 && active[0].end.cmp(p) < 0 {
			pop()
		}
		if len(active) == 0 {
			continue
		}
		w := active[0]
		end := w.end // the last piece runs to the winner's end
		if k+1 < len(points) {
			end = points[k+1].sub(u128{0, 1})
		}
		out = append(out, rawRange{start: p, end: end, ent: w.ent, seq: w.seq})
	}
	return out
}

// compile reads a CSV and returns its table's bytes.
func compile(r io.Reader, path string, fp fingerprint, built time.Time) ([]byte, int, error) {
	type entKey struct {
		asn uint32
		org string
	}
	ents := map[entKey]uint32{}
	var entList []entKey
	var v4, v6 []rawRange
	rows := 0
	err := parseASNCSV(r, path, func(start, end netip.Addr, asn uint32, org string) {
		k := entKey{asn, org}
		x, ok := ents[k]
		if !ok {
			x = uint32(len(entList))
			ents[k] = x
			entList = append(entList, k)
		}
		rr := rawRange{u128Of(start), u128Of(end), x, rows}
		rows++
		if start.Is4() {
			v4 = append(v4, rr)
		} else {
			v6 = append(v6, rr)
		}
	})
	if err != nil {
		return nil, 0, err
	}
	if uint64(rows) > math.MaxUint32 || uint64(len(entList)) > math.MaxUint32 {
		return nil, 0, fmt.Errorf("%s: too many rows", path)
	}
	v4, v6 = disjoint(v4, true), disjoint(v6, false)
	var orgs []byte
	entBytes := make([]byte, 0, 12*len(entList))
	orgAt := map[string]uint32{}
	le := binary.LittleEndian
	for _, e := range entList {
		off, ok := orgAt[e.org]
		if !ok {
			if uint64(len(orgs))+uint64(len(e.org)) > math.MaxUint32 {
				return nil, 0, fmt.Errorf("%s: too many organisation names", path)
			}
			off = uint32(len(orgs))
			orgAt[e.org] = off
			orgs = append(orgs, e.org...)
		}
		entBytes = le.AppendUint32(entBytes, e.asn)
		entBytes = le.AppendUint32(entBytes, off)
		entBytes = le.AppendUint32(entBytes, uint32(len(e.org)))
	}
	t := &asnTable{fp: fp, built: built.UnixNano(), rows: uint32(rows), n4: len(v4), n6: len(v6), nEnt: len(entList)}
	body := make([]byte, 0, 12*len(v4)+36*len(v6)+len(entBytes)+len(orgs))
	for _, r := range v4 {
		body = le.AppendUint32(body, uint32(r.start.lo))
	}
	for _, r := range v4 {
		body = le.AppendUint32(body, uint32(r.end.lo))
	}
	for _, r := range v4 {
		body = le.AppendUint32(body, r.ent)
	}
	for _, r := range v6 {
		body = binary.BigEndian.AppendUint64(body, r.start.hi)
		body = binary.BigEndian.AppendUint64(body, r.start.lo)
	}
	for _, r := range v6 {
		body = binary.BigEndian.AppendUint64(body, r.end.hi)
		body = binary.BigEndian.AppendUint64(body, r.end.lo)
	}
	for _, r := range v6 {
		body = le.AppendUint32(body, r.ent)
	}
	body = append(body, entBytes...)
	body = append(body, orgs...)
	t.orgs = orgs
	t.bodyCRC = crc32.Checksum(body, castagnoli)
	return append(t.header(), body...), rows, nil
}

// writeAtomic writes data to path through a temporary file in the same
// directory, synced, then renamed: a reader sees the old file or the whole
// new one; two writers each rename a whole file.
func writeAtomic(path string, data []byte, perm os.FileMode) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Chmod(perm); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// tablePaths are where a CSV's table is looked for and written, in order:
// next to it, then in the cache directory.
func tablePaths(csvPath string, opt ASNOptions) []string {
	paths := []string{csvPath + TableSuffix}
	dir := opt.CacheDir
	if dir == "" {
		if d, err := os.UserCacheDir(); err == nil {
			dir = filepath.Join(d, "loganom", "asn")
		}
	}
	if dir != "" {
		abs, err := filepath.Abs(csvPath)
		if err != nil {
			abs = csvPath
		}
		sum := sha256.Sum256([]byte(abs))
		paths = append(paths, filepath.Join(dir, fmt.Sprintf("%x-%s%s", sum[:8], filepath.Base(csvPath), TableSuffix)))
	}
	return paths
}

// openCompiled returns the table of one CSV: a fresh one found, else one
// compiled now and kept where it can be.
func openCompiled(csvPath string, opt ASNOptions) (*asnTable, ASNSource, error) {
	now := time.Now
	if opt.Now != nil {
		now = opt.Now
	}
	src := ASNSource{CSV: csvPath}
	f, err := os.Open(csvPath)
	if err != nil {
		return nil, src, err
	}
	defer f.Close()
	fp, err := fingerprintOf(f)
	if err != nil {
		return nil, src, err
	}
	paths := tablePaths(csvPath, opt)
	src.Why = "no compiled table"
	for _, p := range paths {
		t, err := openTable(p)
		switch {
		case errors.Is(err, os.ErrNotExist):
			continue
		case err != nil:
			src.Why = fmt.Sprintf("%s: %v", p, err)
			continue
		case t.fp != fp:
			src.Why = "the CSV changed"
		case time.Duration(t.built-fp.changed()) < racyWindow:
			src.Why = "the table was built within " + racyWindow.String() + " of the CSV's last change"
		default:
			src.Table, src.Rows = p, int(t.rows)
			return t, src, nil
		}
		t.close()
	}
	// compile
	start := now()
	data, rows, err := compile(f, csvPath, fp, start)
	if err != nil {
		return nil, src, err
	}
	src.Built, src.Rows = true, rows
	perm := os.FileMode(0o644)
	if fi, err := f.Stat(); err == nil {
		perm &= fi.Mode().Perm() | 0o600
	}
	var errs []error
	for _, p := range paths {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil && p != paths[0] {
			errs = append(errs, err)
			continue
		}
		if err := writeAtomic(p, data, perm); err != nil {
			errs = append(errs, err)
			continue
		}
		if t, err := openTable(p); err == nil {
			src.Table, src.Took = p, now().Sub(start)
			return t, src, nil
		} else {
			errs = append(errs, fmt.Errorf("%s: %w", p, err))
		}
	}
	t, err := tableFromBytes(data, true)
	if err != nil { // cannot be: compile made it
		return nil, src, fmt.Errorf("%s: %w", csvPath, err)
	}
	src.NotKept, src.Took = errors.Join(errs...), now().Sub(start)
	return t, src, nil
}

// OpenASNCSV opens AS CSV files through their compiled tables, compiling
// those that are missing, stale or damaged. Where ranges overlap, an
// address belongs to the narrowest range of its file that holds it; of
// several files, the first one that holds it answers.
func OpenASNCSV(paths []string, opt ASNOptions) (*ASNRanges, []ASNSource, error) {
	a := &ASNRanges{}
	var srcs []ASNSource
	for _, p := range paths {
		t, src, err := openCompiled(p, opt)
		if err != nil {
			a.Close()
			return nil, nil, err
		}
		a.ts = append(a.ts, t)
		srcs = append(srcs, src)
	}
	return a, srcs, nil
}

// String describes how a CSV was read, for a trace.
func (s ASNSource) String() string {
	switch {
	case !s.Built:
		return fmt.Sprintf("%s: %d ranges, compiled table %s", s.CSV, s.Rows, s.Table)
	case s.NotKept != nil:
		return fmt.Sprintf("%s: %d ranges, compiled in memory in %s (%s); the table could not be kept", s.CSV, s.Rows, s.Took.Round(time.Millisecond), s.Why)
	}
	return fmt.Sprintf("%s: %d ranges, compiled to %s in %s (%s)", s.CSV, s.Rows, s.Table, s.Took.Round(time.Millisecond), s.Why)
}
