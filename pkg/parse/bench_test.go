package parse

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/record"
)

// One benchmark per line format and event type: the cost of Parse on a line
// that the marker search has already picked out.
var benchLines = []struct{ name, line string }{
	{"classic/login", "Nov 27 10:32:16 mail postfix/submission/smtpd[8251]: CEED5BA1AA: client=187-45-12-9.user.vivozap.com.br[187.45.12.9], sasl_method=PLAIN, sasl_username=alice@example.test"},
	{"classic/auth_failure", "Nov 27 10:32:17 mail postfix/submission/smtpd[8251]: warning: localhost[45.227.254.8]: SASL LOGIN authentication failed: authentication failure, sasl_username=carol@example.test"},
	{"classic/reject", "Nov 27 10:32:17 mail postfix/smtpd[8259]: NOQUEUE: reject: RCPT from unknown[192.0.2.236]: 554 5.7.1 <dom.tld>: Helo command rejected: Access denied; from=<ADMINISTRATOR@dom.tld> to=<lp@dom.tld> proto=ESMTP helo=<dom.tld>"},
	{"classic/ipv6_login", "Nov 27 10:32:17 mail postfix/submission/smtpd[8251]: A2BA9BA1AE: client=localhost[2804:14c:5bb3:8a1c::1], sasl_method=PLAIN, sasl_username=carol@example.test"},
	{"rfc3339/login", "2022-01-08T19:42:13.128602+00:00 mail postfix/submission/smtpd[19191]: 1F5A2194AA9: client=client.example.com[1.2.3.4], sasl_method=PLAIN, sasl_username=user@sender.example.com"},
	{"rfc5424/login", `<22>1 2026-11-27T10:32:16.123456+01:00 mail postfix/submission/smtpd 8251 - - CEED5BA1AA: client=host.example.com[187.45.12.9], sasl_method=PLAIN, sasl_username=alice@example.test`},
	{"journald/login", `{"__REALTIME_TIMESTAMP":"1764239536000000","_HOSTNAME":"mail","SYSLOG_IDENTIFIER":"postfix/submission/smtpd","_PID":"8251","MESSAGE":"CEED5BA1AA: client=host.example.com[187.45.12.9], sasl_method=PLAIN, sasl_username=alice@example.test"}`},
	{"classic/not_event", "Nov 27 10:32:16 mail postfix/submission/smtpd[8251]: disconnect from 187-45-12-9.user.vivozap.com.br[187.45.12.9] ehlo=2 xclient=0/1 auth=1 mail=1 rcpt=1 quit=1 commands=6/7"},
}

func BenchmarkParseLine(b *testing.B) {
	for _, bl := range benchLines {
		b.Run(bl.name, func(b *testing.B) {
			p := LineParser{Loc: time.UTC, Ref: time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)}
			line := []byte(bl.line)
			var r record.Record
			b.SetBytes(int64(len(line)))
			b.ReportAllocs()
			for b.Loop() {
				r = record.Record{}
				p.Parse(line, &r)
			}
		})
	}
}

// BenchmarkEncodeLine is Parse followed by the encoding loganom-parse does.
func BenchmarkEncodeLine(b *testing.B) {
	for _, bl := range benchLines[:3] {
		b.Run(bl.name, func(b *testing.B) {
			p := LineParser{Loc: time.UTC, Ref: time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)}
			line := []byte(bl.line)
			var r record.Record
			var out []byte
			b.SetBytes(int64(len(line)))
			b.ReportAllocs()
			for b.Loop() {
				r = record.Record{}
				p.Parse(line, &r)
				r.SrcFile = "/var/log/mail.log"
				out = p.enc.AppendJSON(out[:0], &r)
			}
		})
	}
}

// BenchmarkSourceFile is what loganom-parse does with a plain file: the
// bundled real log repeated to 20 MB, read by the workers and encoded.
func BenchmarkSourceFile(b *testing.B) {
	sample, err := os.ReadFile("../../testdata/logs/postfix-3.7-real.log")
	if err != nil {
		b.Fatal(err)
	}
	file := filepath.Join(b.TempDir(), "maillog")
	if err := os.WriteFile(file, bytes.Repeat(sample, 20<<20/len(sample)), 0o600); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(20<<20/len(sample)) * int64(len(sample)))
	b.ReportAllocs()
	for b.Loop() {
		src := &Source{Names: []string{file}, Opts: Options{Loc: time.UTC}}
		if err := src.RunNDJSON(func([]byte) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeMix is BenchmarkEncodeLine over the three kinds in turn,
// as they come in a log.
func BenchmarkEncodeMix(b *testing.B) {
	p := LineParser{Loc: time.UTC, Ref: time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC), borrow: true}
	lines := [][]byte{[]byte(benchLines[0].line), []byte(benchLines[1].line), []byte(benchLines[0].line), []byte(benchLines[2].line), []byte(benchLines[3].line)}
	var r record.Record
	var out []byte
	i := 0
	for b.Loop() {
		r = record.Record{}
		p.Parse(lines[i%len(lines)], &r)
		r.SrcFile = "/var/log/mail.log"
		out = p.enc.AppendJSON(out[:0], &r)
		i++
	}
}
