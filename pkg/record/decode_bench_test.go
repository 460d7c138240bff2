package record

import (
	"strconv"
	"strings"
	"testing"
)

// Records as the stages read them: one from loganom-parse, one enriched,
// and one with fields a user added (with jq, say).
var benchRecords = []struct{ name, line string }{
	{"parsed", `{"type":"login","time":"2026-11-27T11:30:53Z","host":"mail","service":"postfix/submission/smtpd","pid":19710,"queue_id":"88101984731","user":"alice@example.test","ip":"187.45.12.9","client_name":"187-45-12-9.user.vivozap.com.br","method":"LOGIN","src":"postfix-lab.log:7"}`},
	{"enriched", `{"type":"auth_failure","time":"2026-11-27T11:30:53Z","host":"mail","service":"postfix/submission/smtpd","pid":19710,"user":"carol@example.test","ip":"45.227.254.8","client_name":"unknown","method":"LOGIN","reason":"authentication failure","src":"postfix-lab.log:9","rdns":"45-227-254-8.example.net","rdns_verified":true,"country":"NL","city":"Amsterdam","lat":52.374,"lon":4.8897,"accuracy_km":50,"asn":209588,"org":"Flyservers S.A.","enrich_errors":["rdns: PTR 45.227.254.8: SERVFAIL"]}`},
	{"extra", `{"type":"login","user":"alice@example.test","ip":"187.45.12.9","my_note":"keep","ticket":4711,"tags":["a","b"],"seen":{"by":"jq"},"owner":"ops"}`},
}

func BenchmarkDecode(b *testing.B) {
	for _, br := range benchRecords {
		b.Run(br.name, func(b *testing.B) {
			line := []byte(br.line)
			b.SetBytes(int64(len(line)))
			b.ReportAllocs()
			for b.Loop() {
				var r Record
				if err := Decode(line, &r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// manyKeys is a record of n unknown fields, "x0":1 to "x<n-1 in base
// 36>":1: with n = 96,000 it is just under 1 MiB, the longest record a
// Reader takes.
func manyKeys(n int) []byte {
	var sb strings.Builder
	sb.WriteString(`{"type":"login"`)
	for i := range n {
		sb.WriteString(`,"x` + strconv.FormatInt(int64(i), 36) + `":1`)
	}
	sb.WriteString("}")
	return []byte(sb.String())
}

// BenchmarkManyKeys decodes and encodes a record of 1 MiB made of 96,000
// unknown fields.
func BenchmarkManyKeys(b *testing.B) {
	line := manyKeys(96000)
	var out []byte
	var e Encoder
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for b.Loop() {
		var r Record
		if err := Decode(line, &r); err != nil {
			b.Fatal(err)
		}
		out = e.AppendJSON(out[:0], &r)
	}
}
