package enrich

import (
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"errors"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

type csvRow struct {
	start, end netip.Addr
	asn        uint32
	org        string
}

var orgNames = []string{
	"CLOUDFLARENET", "GOOGLE", "Claro, S.A.", `The "Quoted" Company, Inc.`, "Telefônica Brasil S.A",
	"Ростелеком", "中国电信", "Orange España, S.A.U.", "", "A,B,,C", `O'Brien "ISP"`, "ÅS Ñetwork ÿ",
}

// genASNCSV writes a CSV of ip-location-db's shape: sorted, disjoint
// ranges of varied sizes with gaps, IPv4 then IPv6, organisation names
// with commas, quotes and UTF-8, many ranges per AS. It returns the rows.
func genASNCSV(t testing.TB, path string, n4, n6 int, seed uint64) []csvRow {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	var rows []csvRow
	asnOrg := func() (uint32, string) {
		a := uint32(rng.IntN(n4/4+10)) + 1
		o := orgNames[int(a)%len(orgNames)]
		if o != "" {
			o += fmt.Sprintf(" %d", a%97) // the CSV's fields are trimmed
		}
		return a, o
	}
	v := uint32(1 << 24)
	for range n4 {
		v += uint32(rng.IntN(3)) * uint32(1<<rng.IntN(10)) // a gap, or none
		size := uint32(1) << rng.IntN(12)
		if uint64(v)+uint64(size) >= 1<<32 {
			break
		}
		a, o := asnOrg()
		s, e := v, v+size-1
		rows = append(rows, csvRow{addr4(s), addr4(e), a, o})
		v = e + 1
	}
	hi := uint64(0x2001) << 48
	for range n6 {
		hi += uint64(rng.IntN(3)) << rng.IntN(20)
		size := uint64(1) << rng.IntN(16)
		a, o := asnOrg()
		rows = append(rows, csvRow{addr6(hi, 0), addr6(hi+size-1, ^uint64(0)), a, o})
		hi += size
	}
	// a last IPv6 range to the very end, with no next address
	rows = append(rows, csvRow{addr6(^uint64(0), 0), addr6(^uint64(0), ^uint64(0)), 64512, "the end"})
	writeASNCSV(t, path, rows)
	return rows
}

func writeASNCSV(t testing.TB, path string, rows []csvRow) {
	t.Helper()
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write([]string{"start", "end", "asn", "org"})
	for _, r := range rows {
		w.Write([]string{r.start.String(), r.end.String(), fmt.Sprint(r.asn), r.org})
	}
	w.Flush()
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func addr4(v uint32) netip.Addr {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], v)
	return netip.AddrFrom4(b)
}

func addr6(hi, lo uint64) netip.Addr {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], hi)
	binary.BigEndian.PutUint64(b[8:], lo)
	return netip.AddrFrom16(b)
}

// future is a clock an hour ahead, so that a table just built is not
// "racy" (built within 2 s of the CSV's change) and is used as it is.
func future() time.Time { return time.Now().Add(time.Hour) }

// checkRows asks a about every row's first and last address, and about
// the addresses just outside a row when they are in a gap.
func checkRows(t *testing.T, what string, a *ASNRanges, rows []csvRow) {
	t.Helper()
	covered := func(ip netip.Addr) bool {
		for _, r := range rows {
			if r.start.Compare(ip) <= 0 && ip.Compare(r.end) <= 0 {
				return true
			}
		}
		return false
	}
	bad := 0
	for i, r := range rows {
		for _, ip := range []netip.Addr{r.start, r.end} {
			asn, org, found := a.Lookup(ip)
			if !found || asn != r.asn || org != r.org {
				if bad++; bad < 10 {
					t.Errorf("%s: %s (row %d): %d %q %v, want %d %q", what, ip, i, asn, org, found, r.asn, r.org)
				}
			}
		}
		// the neighbours that are in no range (checked for a few rows:
		// covered is a linear scan)
		if i%97 != 0 {
			continue
		}
		for _, ip := range []netip.Addr{r.start.Prev(), r.end.Next()} {
			if ip.IsValid() && ip.Is4() == r.start.Is4() && !covered(ip) {
				if asn, _, found := a.Lookup(ip); found {
					t.Errorf("%s: %s is in a gap: found AS%d", what, ip, asn)
				}
			}
		}
	}
}

// The compiled table, the table read back, the CSV read into memory and
// the IPv4-mapped forms all answer as the CSV's rows do.
func TestASNTableIdenticalAnswers(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "asn.csv")
	rows := genASNCSV(t, path, 12000, 8000, 1)
	opt := ASNOptions{CacheDir: filepath.Join(dir, "cache"), Now: future}

	a, srcs, err := OpenASNCSV([]string{path}, opt)
	if err != nil {
		t.Fatal(err)
	}
	if !srcs[0].Built || srcs[0].Table != path+TableSuffix || srcs[0].NotKept != nil || srcs[0].Rows != len(rows) {
		t.Fatalf("first open: %+v", srcs[0])
	}
	checkRows(t, "just compiled", a, rows)
	a.Close()

	b, srcs, err := OpenASNCSV([]string{path}, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if srcs[0].Built || srcs[0].Table != path+TableSuffix {
		t.Fatalf("second open compiled again: %+v", srcs[0])
	}
	checkRows(t, "from the table", b, rows)

	m, err := LoadASNCSV(path)
	if err != nil {
		t.Fatal(err)
	}
	checkRows(t, "in memory", m, rows)
	if m.Len() != len(rows) || b.Len() != len(rows) {
		t.Errorf("Len %d, %d; want %d", m.Len(), b.Len(), len(rows))
	}
	for _, r := range rows[:50] {
		if r.start.Is4() {
			mapped := netip.AddrFrom16(r.start.As16())
			if asn, _, _ := b.Lookup(mapped); asn != r.asn {
				t.Errorf("%s: AS%d, want AS%d", mapped, asn, r.asn)
			}
		}
	}
	if _, _, found := b.Lookup(netip.Addr{}); found {
		t.Error("the zero Addr was found")
	}
}

// Overlapping ranges: an address belongs to the narrowest range holding
// it, and of equal ones to the first; checked against a linear scan at
// every range's edges.
func TestASNTableOverlaps(t *testing.T) {
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 2))
		var rows []csvRow
		for range 60 {
			v6 := rng.IntN(3) == 0
			s := uint32(rng.IntN(200))
			e := s + uint32(rng.IntN(60))
			if rng.IntN(8) == 0 {
				e = s
			}
			asn := uint32(rng.IntN(8)) + 1
			r := csvRow{addr4(s), addr4(e), asn, fmt.Sprintf("org %d", asn)}
			if v6 {
				r.start, r.end = addr6(0x20010db8<<32, uint64(s)), addr6(0x20010db8<<32, uint64(e))
			}
			if rng.IntN(10) == 0 { // to the end of the family
				if v6 {
					r.end = addr6(^uint64(0), ^uint64(0))
				} else {
					r.end = addr4(^uint32(0))
				}
			}
			rows = append(rows, r)
		}
		want := func(ip netip.Addr) (uint32, string, bool) {
			best := -1
			for i, r := range rows {
				if r.start.Is4() != ip.Is4() || ip.Less(r.start) || r.end.Less(ip) {
					continue
				}
				if best < 0 || u128Of(r.end).sub(u128Of(r.start)).cmp(u128Of(rows[best].end).sub(u128Of(rows[best].start))) < 0 {
					best = i
				}
			}
			if best < 0 {
				return 0, "", false
			}
			return rows[best].asn, rows[best].org, true
		}
		path := filepath.Join(t.TempDir(), "overlap.csv")
		writeASNCSV(t, path, rows)
		a, err := LoadASNCSV(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			for _, ip := range []netip.Addr{r.start, r.start.Prev(), r.start.Next(), r.end, r.end.Prev(), r.end.Next()} {
				if !ip.IsValid() {
					continue
				}
				wa, wo, wf := want(ip)
				ga, gorg, gf := a.Lookup(ip)
				if ga != wa || gorg != wo || gf != wf {
					t.Errorf("seed %d: %s: %d %q %v, want %d %q %v", seed, ip, ga, gorg, gf, wa, wo, wf)
				}
			}
		}
	}
}

// Several files: the first that holds an address answers.
func TestASNTableSeveralFiles(t *testing.T) {
	dir := t.TempDir()
	one, two := filepath.Join(dir, "one.csv"), filepath.Join(dir, "two.csv")
	os.WriteFile(one, []byte("10.0.0.0,10.0.0.255,1,One\n"), 0o644)
	os.WriteFile(two, []byte("10.0.0.0,10.255.255.255,2,Two\n2001:db8::,2001:db8::ffff,3,\"Three, Ltd\"\n"), 0o644)
	a, _, err := OpenASNCSV([]string{one, two}, ASNOptions{CacheDir: filepath.Join(dir, "cache")})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for ip, want := range map[string]string{"10.0.0.7": "One", "10.0.1.0": "Two", "2001:db8::1": "Three, Ltd", "11.0.0.0": ""} {
		if _, org, _ := a.Lookup(netip.MustParseAddr(ip)); org != want {
			t.Errorf("%s: %q, want %q", ip, org, want)
		}
	}
}

// A table is compiled again when the CSV changes, even to the same size
// with its modification time put back; and when it is damaged.
func TestASNTableRebuilt(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "asn.csv")
	opt := ASNOptions{CacheDir: filepath.Join(dir, "cache"), Now: future}
	open := func(what string) (*ASNRanges, ASNSource) {
		t.Helper()
		a, srcs, err := OpenASNCSV([]string{path}, opt)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		t.Cleanup(func() { a.Close() })
		return a, srcs[0]
	}
	asnOf := func(a *ASNRanges, ip string) uint32 {
		asn, _, _ := a.Lookup(netip.MustParseAddr(ip))
		return asn
	}
	rows := genASNCSV(t, path, 3000, 1000, 7)
	if _, src := open("first"); !src.Built {
		t.Fatalf("first open: %+v", src)
	}
	if _, src := open("unchanged"); src.Built {
		t.Fatalf("compiled again though the CSV did not change: %+v", src)
	}
	fi, _ := os.Stat(path)

	// the same size, the mtime put back: one digit of an AS number changed
	data, _ := os.ReadFile(path)
	first := rows[len(rows)/2]
	old := fmt.Sprintf("%s,%s,%d,", first.start, first.end, first.asn)
	i := bytes.Index(data, []byte(old))
	if i < 0 {
		t.Fatalf("row %q not in the CSV", old)
	}
	d := &data[i+len(old)-2] // the AS number's last digit
	*d = '0' + (*d-'0'+1)%10
	newASN := first.asn - first.asn%10 + (first.asn%10+1)%10
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(path, fi.ModTime(), fi.ModTime())
	if fi2, _ := os.Stat(path); fi2.Size() != fi.Size() || !fi2.ModTime().Equal(fi.ModTime()) {
		t.Fatal("the CSV's size or mtime changed")
	}
	a, src := open("same size and mtime")
	if !src.Built || src.Why != "the CSV changed" {
		t.Errorf("not compiled again: %+v", src)
	}
	if got := asnOf(a, first.start.String()); got != newASN {
		t.Errorf("%s: AS%d, want the new AS%d", first.start, got, newASN)
	}

	// a racy table (built within 2 s of the CSV's change) is built again
	os.WriteFile(path, data, 0o644) // a new ctime
	opt.Now = time.Now
	if _, src := open("racy"); !src.Built {
		t.Errorf("not compiled again after a write: %+v", src)
	}
	opt.Now = future
	if _, src := open("after racy"); !src.Built || !strings.Contains(src.Why, "within 2s") {
		t.Errorf("a racy table was used: %+v", src)
	}
	if _, src := open("not racy"); src.Built {
		t.Errorf("compiled again: %+v", src)
	}

	// damaged tables
	table := path + TableSuffix
	good, _ := os.ReadFile(table)
	for name, damage := range map[string]func([]byte) []byte{
		"truncated":        func(b []byte) []byte { return b[:len(b)-100] },
		"header only":      func(b []byte) []byte { return b[:headerSize] },
		"half a header":    func(b []byte) []byte { return b[:40] },
		"empty":            func(b []byte) []byte { return nil },
		"a byte in a body": func(b []byte) []byte { b[len(b)/2] ^= 0x10; return b },
		"an org":           func(b []byte) []byte { b[len(b)-3] ^= 1; return b },
		"a header count":   func(b []byte) []byte { b[70]++; return b },
		"the version":      func(b []byte) []byte { b[7] = 9; return b },
		"longer":           func(b []byte) []byte { return append(b, 0) },
		"not a table":      func(b []byte) []byte { return []byte(strings.Repeat("1.0.0.0,1.0.0.255,1,X\n", 50)) },
	} {
		if err := os.WriteFile(table, damage(bytes.Clone(good)), 0o644); err != nil {
			t.Fatal(err)
		}
		a, src := open(name)
		if !src.Built || !strings.Contains(src.Why, "damaged") {
			t.Errorf("%s: %+v", name, src)
		}
		if got := asnOf(a, first.start.String()); got != newASN {
			t.Errorf("%s: AS%d, want AS%d", name, got, newASN)
		}
		if got, _ := os.ReadFile(table); len(got) != len(good) {
			t.Errorf("%s: the table was not replaced", name)
		}
	}
}

// Processes opening a new CSV at once each build a table and rename it
// into place: every one gets the right answers, and one table is left,
// with no temporary file.
func TestASNTableConcurrentBuilds(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "asn.csv")
	rows := genASNCSV(t, path, 2000, 500, 3)
	opt := ASNOptions{CacheDir: filepath.Join(dir, "cache"), Now: future}
	var wg sync.WaitGroup
	const n = 8
	errs := make(chan error, 3*n)
	for range n {
		wg.Go(func() {
			for range 3 {
				a, _, err := OpenASNCSV([]string{path}, opt)
				if err != nil {
					errs <- err
					return
				}
				for _, r := range rows {
					if asn, org, _ := a.Lookup(r.end); asn != r.asn || org != r.org {
						errs <- fmt.Errorf("%s: AS%d %q, want AS%d %q", r.end, asn, org, r.asn, r.org)
						break
					}
				}
				a.Close()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "asn.csv asn.csv"+TableSuffix {
		t.Errorf("left in the directory: %v", names)
	}
}

// When the CSV's directory is not writable the table goes to the cache
// directory, and is used from there; when neither is, the run goes on
// with the table in memory and says why it could not be kept.
func TestASNTableUnwritableDir(t *testing.T) {
	dir := t.TempDir()
	csvDir := filepath.Join(dir, "data")
	os.Mkdir(csvDir, 0o755)
	path := filepath.Join(csvDir, "asn.csv")
	rows := genASNCSV(t, path, 500, 100, 5)
	if os.Geteuid() == 0 {
		// root writes anywhere: a directory in the table's place
		// makes it unwritable all the same
		if err := os.Mkdir(path+TableSuffix, 0o755); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(path+TableSuffix, "x"), nil, 0o644)
	} else {
		os.Chmod(csvDir, 0o555)
		t.Cleanup(func() { os.Chmod(csvDir, 0o755) })
	}
	cache := filepath.Join(dir, "cache", "loganom", "asn")
	opt := ASNOptions{CacheDir: cache, Now: future}
	a, srcs, err := OpenASNCSV([]string{path}, opt)
	if err != nil {
		t.Fatal(err)
	}
	if src := srcs[0]; !src.Built || src.NotKept != nil || filepath.Dir(src.Table) != cache || !strings.HasSuffix(src.Table, "-asn.csv"+TableSuffix) {
		t.Errorf("first open: %+v", src)
	}
	checkRows(t, "in the cache directory", a, rows)
	a.Close()
	a, srcs, err = OpenASNCSV([]string{path}, opt)
	if err != nil {
		t.Fatal(err)
	}
	if src := srcs[0]; src.Built || filepath.Dir(src.Table) != cache {
		t.Errorf("second open: %+v", src)
	}
	a.Close()

	// a cache directory under a file cannot be made, even by root
	opt.CacheDir = filepath.Join(dir, "data", "asn.csv", "cache")
	a, srcs, err = OpenASNCSV([]string{path}, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if src := srcs[0]; !src.Built || src.NotKept == nil || src.Table != "" || !strings.Contains(src.String(), "could not be kept") {
		t.Errorf("nowhere to keep it: %+v", src)
	}
	checkRows(t, "in memory", a, rows)
}

func TestASNTableErrors(t *testing.T) {
	dir := t.TempDir()
	opt := ASNOptions{CacheDir: filepath.Join(dir, "cache")}
	if _, _, err := OpenASNCSV([]string{filepath.Join(dir, "missing.csv")}, opt); !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "missing.csv") {
		t.Errorf("missing: %v", err)
	}
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("1.0.0.0,1.0.0.255,13335,X\n1.0.1.0,banana,1,Y\n"), 0o644)
	if _, _, err := OpenASNCSV([]string{bad}, opt); err == nil || !strings.Contains(err.Error(), "bad.csv:2: bad address range") {
		t.Errorf("bad: %v", err)
	}
	if _, err := os.Stat(bad + TableSuffix); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a table was written for a bad CSV: %v", err)
	}
}

// FuzzASNTable reads arbitrary bytes as a table (with its header checksum
// made right, so that the fuzzer gets past it, and the body's not
// checked) and looks addresses up: never a panic. Run it with a short
// minimisation, or the fuzzer spends its time shrinking large inputs:
//
//	go test -run XXX -fuzz FuzzASNTable -fuzztime 1m -fuzzminimizetime 200x ./pkg/enrich
func FuzzASNTable(f *testing.F) {
	path := filepath.Join(f.TempDir(), "asn.csv")
	genASNCSV(f, path, 40, 10, 9)
	file, _ := os.Open(path)
	data, _, err := compile(file, path, fingerprint{}, time.Time{})
	file.Close()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add(data[:headerSize])
	f.Add([]byte(tableMagic))
	ips := []netip.Addr{netip.MustParseAddr("1.0.0.1"), netip.MustParseAddr("255.255.255.255"), netip.MustParseAddr("0.0.0.0"),
		netip.MustParseAddr("2001::1"), netip.MustParseAddr("::"), addr6(^uint64(0), ^uint64(0))}
	f.Fuzz(func(t *testing.T, b []byte) {
		b = bytes.Clone(b)
		if len(b) >= headerSize {
			binary.LittleEndian.PutUint32(b[124:], crc32.Checksum(b[:124], castagnoli))
		}
		for _, verify := range []bool{false, true} {
			tb, err := tableFromBytes(b, verify)
			if err != nil {
				if !errors.Is(err, errDamaged) {
					t.Fatalf("error not errDamaged: %v", err)
				}
				continue
			}
			for _, ip := range ips {
				tb.lookup(ip)
			}
			for i := 0; i+4 <= len(b); i += 4 {
				tb.lookup(addr4(binary.LittleEndian.Uint32(b[i:])))
			}
		}
	})
}
