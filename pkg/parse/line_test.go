package parse

import (
	"bytes"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/record"
)

func testParser() *LineParser {
	return &LineParser{Loc: time.UTC, Ref: time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)}
}

func parseOne(t *testing.T, line string) (Result, string, string) {
	t.Helper()
	var r record.Record
	res, why := testParser().Parse([]byte(line), &r)
	if res != Event {
		return res, why, ""
	}
	return res, why, string(record.AppendJSON(nil, &r))
}

// Each line format and Postfix variant, with the record it must give.
var lineCases = []struct {
	name, line, want string
}{
	{"classic login",
		"Nov 27 10:32:16 mail postfix/submission/smtpd[8251]: CEED5BA1AA: client=187-45-12-9.user.vivozap.com.br[187.45.12.9], sasl_method=PLAIN, sasl_username=alice@example.test",
		`{"type":"login","time":"2026-11-27T10:32:16Z","host":"mail","service":"postfix/submission/smtpd","pid":8251,"queue_id":"CEED5BA1AA","user":"alice@example.test","ip":"187.45.12.9","client_name":"187-45-12-9.user.vivozap.com.br","method":"PLAIN"}`},
	{"space-padded day, unknown client, port, lower-case mechanism",
		"Nov  4 09:11:01 mail postfix/smtps/smtpd[27133]: 4AB3C2D1E0F: client=unknown[192.0.2.150]:49152, sasl_method=login, sasl_username=joe",
		`{"type":"login","time":"2026-11-04T09:11:01Z","host":"mail","service":"postfix/smtps/smtpd","pid":27133,"queue_id":"4AB3C2D1E0F","user":"joe","ip":"192.0.2.150","client_name":"unknown","port":49152,"method":"LOGIN"}`},
	{"unpadded day, multi-instance, sasl_sender, long queue id",
		"Mar 7 02:09:33 mx postfix-out/smtpd[27246]: 4Fq2Lb5tYPzCqt2: client=h.example.org[198.51.100.7], sasl_method=CRAM-MD5, sasl_username=Doe, John, sasl_sender=jd@example.org",
		`{"type":"login","time":"2026-03-07T02:09:33Z","host":"mx","service":"postfix-out/smtpd","pid":27246,"queue_id":"4Fq2Lb5tYPzCqt2","user":"Doe, John","ip":"198.51.100.7","client_name":"h.example.org","method":"CRAM-MD5","sender":"jd@example.org"}`},
	{"IPv6 login, orig_queue_id and orig_client after the SASL fields",
		"Jan 25 06:32:43 mx postfix/smtp-25/smtpd[26382]: 477832E0134: client=h-a4984b7e1cf68ab295d77c5df3[2aff:d7f:d:a::aaa], sasl_method=PLAIN, sasl_username=u@x, orig_queue_id=ABCDEF12345, orig_client=unknown[192.0.2.1]",
		`{"type":"login","time":"2026-01-25T06:32:43Z","host":"mx","service":"postfix/smtp-25/smtpd","pid":26382,"queue_id":"477832E0134","user":"u@x","ip":"2aff:d7f:d:a::aaa","client_name":"h-a4984b7e1cf68ab295d77c5df3","method":"PLAIN"}`},
	{"IPv4-mapped IPv6 is written as IPv4; odd characters in the user name",
		`Nov 27 10:32:17 mail postfix/smtpd[1]: 2BBA6BA1AE: client=x[::ffff:203.0.113.9], sasl_method=PLAIN, sasl_username=o'brien+tag "x"@exämple.test`,
		`{"type":"login","time":"2026-11-27T10:32:17Z","host":"mail","service":"postfix/smtpd","pid":1,"queue_id":"2BBA6BA1AE","user":"o'brien+tag \"x\"@exämple.test","ip":"203.0.113.9","client_name":"x","method":"PLAIN"}`},
	{"RFC 3339 (rsyslog high precision)",
		"2022-01-08T19:42:13.128602+01:00 mail postfix/submission/smtpd[19191]: 1F5A2194AA9: client=client.example.com[1.2.3.4], sasl_method=PLAIN, sasl_username=user@sender.example.com",
		`{"type":"login","time":"2022-01-08T19:42:13.128602+01:00","host":"mail","service":"postfix/submission/smtpd","pid":19191,"queue_id":"1F5A2194AA9","user":"user@sender.example.com","ip":"1.2.3.4","client_name":"client.example.com","method":"PLAIN"}`},
	{"RFC 3339 with Z and a port on a failure",
		"2022-04-14T00:36:03.150Z mailhub postfix/smtps/smtpd[30543]: warning: unknown[122.166.249.154]:48123: SASL LOGIN authentication failed: UGFzc3dvcmQ6",
		`{"type":"auth_failure","time":"2022-04-14T00:36:03.15Z","host":"mailhub","service":"postfix/smtps/smtpd","pid":30543,"ip":"122.166.249.154","client_name":"unknown","port":48123,"method":"LOGIN","reason":"UGFzc3dvcmQ6"}`},
	{"RFC 5424 with structured data and BOM",
		"<22>1 2026-11-27T10:32:16.123+01:00 mail.example.com postfix/submission/smtpd 8251 - [origin ip=\"10.0.0.1\" x=\"a\\]b\"] \xef\xbb\xbfCEED5BA1AA: client=h[187.45.12.9], sasl_method=PLAIN, sasl_username=alice",
		`{"type":"login","time":"2026-11-27T10:32:16.123+01:00","host":"mail.example.com","service":"postfix/submission/smtpd","pid":8251,"queue_id":"CEED5BA1AA","user":"alice","ip":"187.45.12.9","client_name":"h","method":"PLAIN"}`},
	{"RFC 5424 without structured data",
		"<22>1 2026-11-27T10:32:16Z mail postfix/smtpd 77 - - warning: unknown[192.0.2.1]: SASL PLAIN authentication failed: ",
		`{"type":"auth_failure","time":"2026-11-27T10:32:16Z","host":"mail","service":"postfix/smtpd","pid":77,"ip":"192.0.2.1","client_name":"unknown","method":"PLAIN"}`},
	{"classic with a priority prefix",
		"<22>Nov 27 10:32:16 mail postfix/smtpd[9]: warning: a.example[192.0.2.9]: SASL LOGIN authentication failed: authentication failure, sasl_username=carol@example.test",
		`{"type":"auth_failure","time":"2026-11-27T10:32:16Z","host":"mail","service":"postfix/smtpd","pid":9,"user":"carol@example.test","ip":"192.0.2.9","client_name":"a.example","method":"LOGIN","reason":"authentication failure"}`},
	{"journald JSON, MESSAGE as a string",
		`{"__REALTIME_TIMESTAMP":"1764239536000000","_HOSTNAME":"mail","SYSLOG_IDENTIFIER":"postfix/submission/smtpd","_PID":"8251","MESSAGE":"CEED5BA1AA: client=h[187.45.12.9], sasl_method=PLAIN, sasl_username=alice"}`,
		`{"type":"login","time":"2025-11-27T10:32:16Z","host":"mail","service":"postfix/submission/smtpd","pid":8251,"queue_id":"CEED5BA1AA","user":"alice","ip":"187.45.12.9","client_name":"h","method":"PLAIN"}`},
	{"journald JSON, MESSAGE as an array of bytes",
		`{"__REALTIME_TIMESTAMP":"1764239536000000","_HOSTNAME":"mail","SYSLOG_IDENTIFIER":"postfix/smtpd","SYSLOG_PID":"7","MESSAGE":[119,97,114,110,105,110,103,58,32,117,91,49,46,50,46,51,46,52,93,58,32,83,65,83,76,32,76,79,71,73,78,32,97,117,116,104,101,110,116,105,99,97,116,105,111,110,32,102,97,105,108,101,100,58,32,255]}`,
		`{"type":"auth_failure","time":"2025-11-27T10:32:16Z","host":"mail","service":"postfix/smtpd","pid":7,"ip":"1.2.3.4","client_name":"u","method":"LOGIN","reason":"\ufffd"}`},
	{"NOQUEUE reject with from and to",
		"Jul 18 23:12:56 xxx postfix/smtpd[1938]: NOQUEUE: reject: RCPT from unknown[192.0.2.236]: 554 5.7.1 <dom.tld>: Helo command rejected: Access denied; from=<ADMIN@dom.tld> to=<lp@dom.tld> proto=ESMTP helo=<dom.tld>",
		`{"type":"reject","time":"2026-07-18T23:12:56Z","host":"xxx","service":"postfix/smtpd","pid":1938,"ip":"192.0.2.236","client_name":"unknown","from":"ADMIN@dom.tld","to":"lp@dom.tld","command":"RCPT","reason":"554 5.7.1 <dom.tld>: Helo command rejected: Access denied"}`},
	{"reject with a queue id, null sender, semicolons in the reason, a hostile HELO",
		"Dec 30 18:19:15 xxx postfix-incoming/smtpd[1574]: 00ADB3C0899: reject: RCPT from badguy.example.com[93.184.216.34]:2525: 454 4.7.1 Service unavailable; Client host [93.184.216.34] blocked using rbl.example.com; from=<> to=<goodguy@example.com> proto=ESMTP helo=<x; from=<evil> to=<evil>>",
		`{"type":"reject","time":"2025-12-30T18:19:15Z","host":"xxx","service":"postfix-incoming/smtpd","pid":1574,"queue_id":"00ADB3C0899","ip":"93.184.216.34","client_name":"badguy.example.com","port":2525,"from":"","to":"goodguy@example.com","command":"RCPT","reason":"454 4.7.1 Service unavailable; Client host [93.184.216.34] blocked using rbl.example.com"}`},
	{"quota reject from a policy service",
		"Nov 27 10:40:01 mail postfix/submission/smtpd[900]: NOQUEUE: reject: RCPT from unknown[198.51.100.4]: 450 4.7.1 <x@example.net>: Recipient address rejected: Quota per hour exceeded; from=<bob@example.test> to=<x@example.net> proto=ESMTP helo=<[192.168.1.10]>",
		`{"type":"reject","time":"2026-11-27T10:40:01Z","host":"mail","service":"postfix/submission/smtpd","pid":900,"ip":"198.51.100.4","client_name":"unknown","from":"bob@example.test","to":"x@example.net","command":"RCPT","reason":"450 4.7.1 <x@example.net>: Recipient address rejected: Quota per hour exceeded"}`},
	{"EHLO reject without from or to",
		"Jan 31 13:55:24 xxx postfix/smtps/smtpd[42]: NOQUEUE: reject: EHLO from s.example.ru[78.107.251.238]: 504 5.5.2 <User>: Helo command rejected: need fully-qualified hostname; proto=SMTP helo=<User>",
		`{"type":"reject","time":"2026-01-31T13:55:24Z","host":"xxx","service":"postfix/smtps/smtpd","pid":42,"ip":"78.107.251.238","client_name":"s.example.ru","command":"EHLO","reason":"504 5.5.2 <User>: Helo command rejected: need fully-qualified hostname"}`},
	{"postscreen reject, [addr]:port and commas",
		"May  5 15:51:11 xxx postfix/postscreen[1148]: NOQUEUE: reject: RCPT from [216.245.194.173]:60591: 550 5.7.1 Service unavailable; client [216.245.194.173] blocked using rbl.example.com; from=<spammer@example.com>, to=<goodguy@example.com>, proto=ESMTP, helo=<badguy.example.com>",
		`{"type":"reject","time":"2026-05-05T15:51:11Z","host":"xxx","service":"postfix/postscreen","pid":1148,"ip":"216.245.194.173","port":60591,"from":"spammer@example.com","to":"goodguy@example.com","command":"RCPT","reason":"550 5.7.1 Service unavailable; client [216.245.194.173] blocked using rbl.example.com"}`},
	{"RFC 5424 from rsyslog, APP-NAME cut at the first '/'",
		"<22>1 2026-11-27T10:29:38.123456+01:00 mail postfix 5753 - - 5A1C2E0B1C: client=unknown[203.0.113.7]:50000, sasl_method=PLAIN, sasl_username=bob@example.com",
		`{"type":"login","time":"2026-11-27T10:29:38.123456+01:00","host":"mail","service":"postfix","pid":5753,"queue_id":"5A1C2E0B1C","user":"bob@example.com","ip":"203.0.113.7","client_name":"unknown","port":50000,"method":"PLAIN"}`},
	{"RFC 5424, cut APP-NAME of a multi-instance Postfix, failure",
		"<22>1 2026-11-27T10:29:39+01:00 mail postfix-in 5754 - - warning: unknown[203.0.113.8]: SASL LOGIN authentication failed: authentication failure, sasl_username=bob@example.com",
		`{"type":"auth_failure","time":"2026-11-27T10:29:39+01:00","host":"mail","service":"postfix-in","pid":5754,"user":"bob@example.com","ip":"203.0.113.8","client_name":"unknown","method":"LOGIN","reason":"authentication failure"}`},
	{"RFC 5424, cut APP-NAME, reject",
		"<22>1 2026-11-27T10:29:40Z mail postfix 5755 - - NOQUEUE: reject: RCPT from unknown[192.0.2.236]: 554 5.7.1 <x@example.net>: Relay access denied; from=<a@example.org> to=<x@example.net> proto=ESMTP helo=<pc>",
		`{"type":"reject","time":"2026-11-27T10:29:40Z","host":"mail","service":"postfix","pid":5755,"ip":"192.0.2.236","client_name":"unknown","from":"a@example.org","to":"x@example.net","command":"RCPT","reason":"554 5.7.1 <x@example.net>: Relay access denied"}`},
	{"RFC 5424, cut APP-NAME, postscreen reject",
		"<22>1 2026-11-27T10:29:41Z mail postfix 1148 - - NOQUEUE: reject: RCPT from [216.245.194.173]:60591: 550 5.7.1 Service unavailable; client [216.245.194.173] blocked using rbl.example.com; from=<s@example.com>, to=<g@example.com>, proto=ESMTP, helo=<b.example.com>",
		`{"type":"reject","time":"2026-11-27T10:29:41Z","host":"mail","service":"postfix","pid":1148,"ip":"216.245.194.173","port":60591,"from":"s@example.com","to":"g@example.com","command":"RCPT","reason":"550 5.7.1 Service unavailable; client [216.245.194.173] blocked using rbl.example.com"}`},
	{"RFC 5424, APP-NAME left out: no service",
		"<22>1 2026-11-27T10:29:42Z mail - - - - 5A1C2E0B1D: client=h[192.0.2.3], sasl_method=PLAIN, sasl_username=bob",
		`{"type":"login","time":"2026-11-27T10:29:42Z","host":"mail","queue_id":"5A1C2E0B1D","user":"bob","ip":"192.0.2.3","client_name":"h","method":"PLAIN"}`},
	{"classic, tag cut at the first '/'",
		"Nov 27 10:29:38 mail postfix[5753]: 5A1C2E0B1C: client=unknown[203.0.113.7], sasl_method=PLAIN, sasl_username=bob@example.com",
		`{"type":"login","time":"2026-11-27T10:29:38Z","host":"mail","service":"postfix","pid":5753,"queue_id":"5A1C2E0B1C","user":"bob@example.com","ip":"203.0.113.7","client_name":"unknown","method":"PLAIN"}`},
	{"classic, cut tag without a pid, failure",
		"Nov 27 10:29:39 mail postfix-in: warning: h[2001:db8::5]: SASL PLAIN authentication failed: ",
		`{"type":"auth_failure","time":"2026-11-27T10:29:39Z","host":"mail","service":"postfix-in","ip":"2001:db8::5","client_name":"h","method":"PLAIN"}`},
	{"journald, identifier cut",
		`{"__REALTIME_TIMESTAMP":"1764239536000000","_HOSTNAME":"mail","SYSLOG_IDENTIFIER":"postfix","_PID":"8251","MESSAGE":"CEED5BA1AA: client=h[187.45.12.9], sasl_method=PLAIN, sasl_username=alice"}`,
		`{"type":"login","time":"2025-11-27T10:32:16Z","host":"mail","service":"postfix","pid":8251,"queue_id":"CEED5BA1AA","user":"alice","ip":"187.45.12.9","client_name":"h","method":"PLAIN"}`},
	{"CRLF line end",
		"Nov 27 10:32:16 mail postfix/smtpd[1]: CEED5BA1AA: client=h[192.0.2.1], sasl_method=PLAIN, sasl_username=a\r",
		`{"type":"login","time":"2026-11-27T10:32:16Z","host":"mail","service":"postfix/smtpd","pid":1,"queue_id":"CEED5BA1AA","user":"a","ip":"192.0.2.1","client_name":"h","method":"PLAIN"}`},
}

func TestParseLine(t *testing.T) {
	for _, c := range lineCases {
		t.Run(c.name, func(t *testing.T) {
			res, why, got := parseOne(t, c.line)
			if res != Event {
				t.Fatalf("result %d (%s), want an event", res, why)
			}
			if got != c.want {
				t.Errorf("got  %s\nwant %s", got, c.want)
			}
		})
	}
}

// Lines that are not login events, some of them close to one.
var notEvents = []string{
	"Feb 10 13:26:34 srv postfix/smtpd[123]: disconnect from unknown[192.0.2.1] helo=1 auth=0/1 quit=1 commands=2/3",
	"Feb 18 09:48:04 xxx postfix/smtpd[50903]: lost connection after AUTH from unknown[192.0.2.23]",
	"Jun 12 08:58:35 xxx postfix/smtpd[13533]: improper command pipelining after AUTH from unknown[1.2.3.4]: QUIT",
	"Apr 26 10:55:19 tcc1 postfix/smtpd[21126]: warning: SASL authentication failure: Password verification failed",
	"Oct 25 02:59:46 ucs postfix/smtpd[24944]: warning: SASL authentication failure: cannot connect to saslauthd server: Connection refused",
	"Dec 17 06:28:56 sm02 saslauthd[94963]: auth_zimbra: sender@sender.example.com auth OK",
	"Dec 17 06:28:56 sm02 saslauthd[9]: do_auth: auth failure: [user=x] [service=smtp] [realm=] [mech=pam] [reason=PAM auth error] sasl_username=x",
	"Oct 13 16:40:40 ucs postfix/smtpd[18568]: 4F5C64474F: client=unknown[28.55.140.112]",
	"Oct 13 16:40:42 ucs postfix/smtpd[18581]: ED01244770: client=localhost[127.0.0.1], orig_queue_id=4F5C64474F, orig_client=unknown[28.55.140.112]",
	"Jan 25 18:50:11 mx postfix/smtpd[5178]: 0DAFB2E2D27: client=localhost[::1]",
	"Feb 16 00:07:34 smtpnode07 postfix-10.20.30.40/something[2342]: unsupported message",
	"Dec 17 06:25:48 sm02 /postfix-script[112854]: the Postfix mail system is running: PID: 95072",
	"Jan 10 16:15:30 mail postfix/sender-cleanup/cleanup[11989]: 0B73130001FB: reject: header Subject: x from h[1.2.3.4]; from=<a@b> to=<c@d> proto=ESMTP helo=<x>: 5.7.1 no",
	"Dec 17 06:28:56 sm02 postfix/submission/smtpd[115113]: NOQUEUE: filter: RCPT from unknown[11.22.33.44]: <s@x>: Sender address triggers FILTER smtp-amavis:[127.0.0.1]:10026; from=<s@x> to=<r@y> proto=ESMTP helo=<MsLy>",
	"Sep  6 11:47:43 poseidon postfix/postscreen[14766]: PREGREET 14 after 0.04 from [1.2.3.4]:55868: EHLO ylmf-pc\\r\\n",
	"Aug 14 10:00:01 mail postfix/smtpd[1234]: warning: hostname bad.example.com does not resolve to address 192.0.2.44: Name or service not known",
	// A program cut to "postfix" may be any daemon: only smtpd's and
	// postscreen's messages are events.
	"Nov 27 10:29:38 mail postfix[11989]: 0B73130001FB: reject: header Subject: x from h[1.2.3.4]; from=<a@b> to=<c@d> proto=ESMTP helo=<x>: 5.7.1 no",
	"<22>1 2026-11-27T10:29:38Z mail postfix 11989 - - 0B73130001FB: reject: body buy now from h[1.2.3.4]; from=<a@b> to=<c@d> proto=ESMTP helo=<x>: 5.7.1 no",
	"Nov 27 10:29:38 mail postfix[2]: warning: SASL authentication failure: No worthy mechs found",
	"Nov 27 10:29:38 mail postfix[2]: 0B73130001FB: to=<a@b>, relay=x[192.0.2.4]:587, delay=1, status=deferred (SASL authentication failed; server x[192.0.2.4] said: 535 5.7.8 Error)",
	"Nov 27 10:29:38 mail postfix[3]: 0B73130001FB: milter-reject: END-OF-MESSAGE from h[192.0.2.5]: 5.7.1 spam; from=<a@b> to=<c@d> proto=ESMTP helo=<x>",
	"Nov 27 10:29:38 mail postfix[4]: 0B73130001FB: client=h[192.0.2.6]",
	"",
	"just some text",
	"{not json",
}

func TestNotEvents(t *testing.T) {
	for _, line := range notEvents {
		if res, why, got := parseOne(t, line); res != NotEvent {
			t.Errorf("%q: result %d %s %s, want not an event", line, res, why, got)
		}
	}
}

// Lines that look like events but do not parse are Malformed, with a reason.
func TestMalformed(t *testing.T) {
	for _, line := range []string{
		"Nov 27 10:32:16 mail postfix/smtpd[1]: CEED5BA1AA: client=h[999.1.2.3], sasl_method=PLAIN, sasl_username=a",
		"Nov 27 10:32:16 mail postfix/smtpd[1]: CEED5BA1AA: client=h[192.0.2.1]; sasl_method=PLAIN, sasl_username=a",
		"Nov 27 10:32:16 mail postfix/smtpd[1]: CEED5BA1AA: client=h[192.0.2.1], sasl_method=PLAIN, sasl_username=",
		"Nov 27 10:32:16 mail postfix/smtpd[1]: CEED5BA1AA: client=h[192.0.2.1], sasl_method=PLAIN sasl_username=a",
		"Nov 27 10:32:16 mail postfix/smtpd[1]: CE!D5: client=h[192.0.2.1], sasl_method=PLAIN, sasl_username=a",
		"Nov 27 10:32:16 mail postfix/smtpd[1]: warning: h[nonsense]: SASL LOGIN authentication failed: x",
		"Nov 27 10:32:16 mail postfix/smtpd[1]: NOQUEUE: reject: RCPT from h[192.0.2.1 550 oops",
		"Nov 27 10:32 mail postfix/smtpd[1]: CEED5BA1AA: client=h[192.0.2.1], sasl_method=PLAIN, sasl_username=a",
		"<22>1 2026-11-27T10:29:38Z mail postfix 5753 - - 5A1C2E0B1C: client=h[999.1.2.3], sasl_method=PLAIN, sasl_username=a",
		"Nov 27 10:32:16 mail postfix[1]: NOQUEUE: reject: RCPT from h[192.0.2.1 550 oops",
		"Nov 27 10:32:16 mail postfix[1]: warning: h[nonsense]: SASL LOGIN authentication failed: x",
		// a NUL, which Postfix writes as '?' (PostgreSQL's text refuses it)
		"Nov 27 10:32:16 mail postfix/smtpd[1]: CEED5BA1AA: client=h[192.0.2.1], sasl_method=PLAIN, sasl_username=nul\x00x@example.test",
		"Nov 27 10:32:16 mail postfix/smtpd[1]: warning: h[192.0.2.1]: SASL LOGIN authentication failed: x, sasl_username=nul\x00x",
	} {
		res, why, _ := parseOne(t, line)
		if res == Malformed && why == "" {
			t.Errorf("%q: malformed without a reason", line)
		}
		if res != Malformed {
			t.Errorf("%q: result %d, want malformed", line, res)
		}
	}
}

// Classic syslog has no year: it comes from the end of the log.
func TestYearInference(t *testing.T) {
	at := func(ref time.Time, line string) string {
		p := &LineParser{Loc: time.UTC, Ref: ref}
		var r record.Record
		if res, why := p.Parse([]byte(line+" mail postfix/smtpd[1]: warning: u[192.0.2.1]: SASL LOGIN authentication failed: x"), &r); res != Event {
			t.Fatalf("%s: %d %s", line, res, why)
		}
		return r.Time.Format(time.DateOnly)
	}
	jan2 := time.Date(2027, 1, 2, 3, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		ref        time.Time
		line, want string
	}{
		{jan2, "Dec 31 23:59:59", "2026-12-31"}, // log crossing New Year
		{jan2, "Jan  1 00:00:01", "2027-01-01"},
		{jan2, "Jan  3 10:00:00", "2027-01-03"}, // a day of clock skew is allowed
		{jan2, "Jan  4 10:00:00", "2026-01-04"}, // more is last year
		{jan2, "Feb 29 12:00:00", "2024-02-29"}, // the last leap year
		{time.Date(2026, 12, 31, 23, 59, 0, 0, time.UTC), "Jan  1 00:00:30", "2027-01-01"},
	} {
		if got := at(c.ref, c.line); got != c.want {
			t.Errorf("ref %v, %q: %s, want %s", c.ref, c.line, got, c.want)
		}
	}
	p := &LineParser{Loc: time.UTC, Year: 2019}
	var r record.Record
	p.Parse([]byte("Dec 31 23:59:59 mail postfix/smtpd[1]: warning: u[192.0.2.1]: SASL LOGIN authentication failed: x"), &r)
	if r.Time.Year() != 2019 {
		t.Errorf("fixed year: %v", r.Time)
	}
}

// The zone of classic timestamps is the one given.
func TestZone(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no zone data")
	}
	p := &LineParser{Loc: berlin, Year: 2026}
	var r record.Record
	p.Parse([]byte("Mar 29 03:30:00 mail postfix/smtpd[1]: warning: u[192.0.2.1]: SASL LOGIN authentication failed: x"), &r)
	if got := r.Time.Format(time.RFC3339); got != "2026-03-29T03:30:00+02:00" {
		t.Errorf("got %s", got)
	}
	p.Parse([]byte("Jul  1 12:00:00 mail postfix/smtpd[1]: warning: u[192.0.2.1]: SASL LOGIN authentication failed: x"), &r)
	if got := r.Time.Format(time.RFC3339); got != "2026-07-01T12:00:00+02:00" {
		t.Errorf("got %s", got)
	}
}

func TestASCII(t *testing.T) {
	for n := 0; n <= 40; n++ {
		for pos := -1; pos < n; pos++ {
			b := bytes.Repeat([]byte("a"), n)
			if pos >= 0 {
				b[pos] = 0x80
			}
			if got := ascii(b); got != (pos < 0) {
				t.Fatalf("ascii(%q) = %v", b, got)
			}
		}
	}
}
