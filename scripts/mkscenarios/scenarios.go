package main

import "time"

// scenarios: each makes one log; the order fixes the seeds.
var scenarios = []func(seed uint64) *scenario{
	botnet, nightly, hundreds, twoInOneCountry, farAway, forgedPTR,
	rotatingHome, homeAndOffice, phoneHopping, gmailUser, traveller,
	vpnAbroad, moved, travellerRoaming, quietAccount, sharedMailbox,
	farBetweenHome, lineOfTheDay, farBetweenPhone, checkedOnce,
}

// An ordinary office worker: the office's link on weekdays, a home
// connection in the evening and at weekends, a phone.
func worker(s *scenario, user string, laptop client, home addr, phone func() addr, phoneC client) person {
	return person{user: user, laptop: laptop, office: true, busyMin: 2, busyMax: 7,
		home: func(int) addr { return home }, phone: phone, phoneC: phoneC}
}

// gmailLife: the account is used from Gmail ("send mail as"), through its
// servers, on weekdays and a little at weekends.
func (s *scenario) gmailLife(user string, pool []addr) {
	s.users = append(s.users, user)
	for d := first + 1; d <= last; d++ {
		n := 3 + s.r.IntN(6)
		h1, h2 := 8, 20
		if wd := day(d).Weekday(); wd == time.Saturday || wd == time.Sunday {
			n, h1, h2 = s.r.IntN(3), 10, 22
		}
		for _, t := range s.times(n, d, h1, h2) {
			s.send(t, user, pool[s.r.IntN(len(pool))], gmailSendAs, 1)
		}
	}
}

// spam sends n messages from a in sessions of a few messages, from t on,
// and returns when it stopped.
func (s *scenario) spam(t time.Time, user string, a addr, n int, gap time.Duration) time.Time {
	for n > 0 {
		k := min(n, 1+s.r.IntN(5))
		t = s.send(t, user, a, spamTool, k)
		n -= k
		t = t.Add(gap/2 + s.jitter(gap))
	}
	return t
}

// 1. A botnet uses the password from many countries in one night.
func botnet(seed uint64) *scenario {
	s := newScenario("botnet.log", seed)
	const user = "rafael.lima@example.test"
	s.life(worker(s, user, outlook, telesp(s.in("177.102.32.0/22")), func() addr { return none(s.in("177.48.0.0/15")) }, android))
	s.colleagues("ana", "pedro")
	o := func(ip string) [4]byte { return octets(ip) }
	bots := []addr{
		none(s.in("92.36.0.0/16")),
		func() addr { ip := s.in("176.63.0.0/16"); return named(ip, "catv-"+dashed(ip)+".catv.broadband.hu") }(),
		none(s.in("195.242.176.0/21")),
		func() addr {
			ip := s.in("188.76.0.0/16")
			b := o(ip)
			return named(ip, ipRev(b)+".dynamic.jazztel.es")
		}(),
		none(s.in("87.116.176.0/20")),
		func() addr { ip := s.in("188.69.192.0/18"); return named(ip, "md-"+dashed(ip)+".omni.lt") }(),
		none(s.in("118.69.0.0/16")),
		none(s.in("27.72.0.0/19")),
		none(s.in("105.112.8.0/22")),
		none(s.in("117.200.0.0/19")),
		none(s.in("36.80.96.0/20")),
		func() addr { ip := s.in("78.180.96.0/20"); return named(ip, ip+".dynamic.ttnet.com.tr") }(),
		func() addr { ip := s.in("197.34.0.0/16"); return named(ip, "host-"+ip+".tedata.net") }(),
		none(s.in("58.210.0.0/17")),
		none(s.in("182.180.8.0/21")),
		none(s.in("189.216.0.0/20")),
		none(s.in("181.29.100.0/22")),
		func() addr { ip := s.in("73.10.0.0/20"); return named(ip, "c-"+dashed(ip)+".hsd1.nj.comcast.net") }(),
		virtua(s.in("201.17.30.0/23")), // a hacked router in Rio de Janeiro
		none(s.in("118.69.0.0/16")),
		none(s.in("36.80.96.0/20")),
		none(s.in("117.200.0.0/19")),
	}
	for _, a := range bots {
		for k := 1 + s.r.IntN(2); k > 0; k-- {
			s.send(s.between(10, 1, 12, 4, 40), user, a, spamTool, 1+s.r.IntN(3))
		}
	}
	return s
}

func ipRev(b [4]byte) string {
	return itoa(int(b[3])) + "." + itoa(int(b[2])) + "." + itoa(int(b[1])) + "." + itoa(int(b[0]))
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

// 2. A new foreign country every night for a week, a few messages each,
// from a residential proxy of that country.
func nightly(seed uint64) *scenario {
	s := newScenario("new-country-each-night.log", seed)
	const user = "patricia.alves@example.test"
	s.life(worker(s, user, thunderbird, virtua(s.in("189.100.8.0/21")), func() addr { return vivozap(s.in("152.240.0.0/16")) }, iphone))
	s.colleagues("ana")
	nights := []func() addr{
		func() addr { return none(s.in("41.203.64.0/18")) },                                       // NG
		func() addr { return none(s.in("118.69.0.0/16")) },                                        // VN
		func() addr { return none(s.in("59.88.0.0/20")) },                                         // IN
		func() addr { return none(s.in("110.136.8.0/21")) },                                       // ID
		func() addr { ip := s.in("88.240.0.0/19"); return named(ip, ip+".dynamic.ttnet.com.tr") }, // TR
		func() addr { ip := s.in("41.33.10.0/25"); return named(ip, "host-"+ip+".tedata.net") },   // EG
		func() addr { return none(s.in("39.32.0.0/19")) },                                         // PK
	}
	for i, next := range nights {
		d := 7 + i // the nights of Friday 6 to Friday 13 November
		a := next()
		t := s.between(d, 0, 40, 2, 30)
		for k := 3 + s.r.IntN(4); k > 0; k-- {
			if s.r.IntN(4) == 0 {
				a = next() // the proxy moves to another address of the country
			}
			t = s.send(t, user, a, spamTool, 1+s.r.IntN(3))
			t = t.Add(3*time.Minute + s.jitter(25*time.Minute))
		}
	}
	return s
}

// 3. A password guessed after a few failures, then one foreign address
// (a rented server) sends hundreds of messages with it.
func hundreds(seed uint64) *scenario {
	s := newScenario("one-address-hundreds.log", seed)
	const user = "joao.pereira@example.test"
	s.life(worker(s, user, outlook, telesp(s.in("177.102.32.0/22")), func() addr { return vivozap(s.in("152.244.2.0/23")) }, iphone))
	s.colleagues("ana", "pedro")
	vps := named("161.97.99.14", "vmi2291134.contaboserver.net")
	t := at(10, 20, 11).Add(7 * time.Second)
	t = s.fail(t, user, vps, spamTool, 2)
	t = s.fail(t.Add(50*time.Second), user, vps, spamTool, 1)
	t = s.fail(t.Add(70*time.Second), user, vps, spamTool, 1)
	s.spam(t.Add(40*time.Second), user, vps, 300, 90*time.Second)
	return s
}

// 4. Two addresses in one foreign country (Moscow), over two days.
func twoInOneCountry(seed uint64) *scenario {
	s := newScenario("two-addresses-one-country.log", seed)
	const user = "carla.mendes@example.test"
	s.life(worker(s, user, thunderbird, virtua(s.in("186.220.0.0/18")), func() addr { return none(s.in("179.241.0.0/19")) }, android))
	s.colleagues("pedro")
	home, mobile := none(s.in("46.138.0.0/19")), none(s.in("46.138.192.0/19"))
	for _, v := range []struct {
		a         addr
		d, h1, h2 int
		n         int
	}{{home, 9, 10, 12, 7}, {mobile, 9, 19, 21, 5}, {home, 10, 9, 11, 6}, {mobile, 10, 15, 16, 3}} {
		for _, t := range s.times(v.n, v.d, v.h1, v.h2) {
			s.send(t, user, v.a, thunderbird, 1)
		}
	}
	return s
}

// 5. A login from Osaka 20 minutes after one from the office.
func farAway(seed uint64) *scenario {
	s := newScenario("far-away-20-minutes.log", seed)
	const user = "lucas.ferreira@example.test"
	s.life(worker(s, user, outlook, telesp(s.in("177.102.32.0/22")), func() addr { return none(s.in("177.48.0.0/15")) }, android))
	s.colleagues("ana")
	s.send(at(11, 14, 3).Add(12*time.Second), user, office, outlook, 1)
	osaka := none(s.in("60.56.32.0/20"))
	s.send(at(11, 14, 23).Add(41*time.Second), user, osaka, thunderbird, 2)
	s.send(at(11, 14, 31).Add(5*time.Second), user, osaka, thunderbird, 1)
	s.send(at(11, 14, 47).Add(30*time.Second), user, osaka, thunderbird, 2)
	s.send(at(11, 15, 10).Add(2*time.Second), user, office, outlook, 1)
	return s
}

// 6. A rented server whose reverse name claims to be Gmail's, which does
// not resolve back to it, uses the password of a Gmail "send mail as" user.
func forgedPTR(seed uint64) *scenario {
	s := newScenario("forged-google-ptr.log", seed)
	const user = "fernanda.rocha@example.test"
	s.gmailLife(user, gmail[:8])
	s.life(person{user: user, phone: func() addr { return vivozap(s.in("152.244.2.0/23")) }, phoneC: iphone, sunday: true})
	s.colleagues("ana", "pedro")
	forged := addr{ip: "5.9.20.13", ptr: "mail-wr1-f54.google.com", forward: "209.85.221.54"}
	s.spam(at(12, 3, 5).Add(17*time.Second), user, forged, 40, 3*time.Minute)
	return s
}

// 7. A remote worker whose home ISP gives a new address every day or two.
func rotatingHome(seed uint64) *scenario {
	s := newScenario("rotating-home-isp.log", seed)
	const user = "beatriz.costa@example.test"
	pools := []string{"179.208.10.0/23", "189.100.8.0/21", "186.220.0.0/18", "177.33.120.0/22"}
	byDay := map[int]addr{}
	cur := virtua(s.in(pools[0]))
	for d := first; d <= last; d++ {
		if d == first || s.r.IntN(3) != 0 {
			cur = virtua(s.in(pools[s.r.IntN(len(pools))]))
		}
		byDay[d] = cur
	}
	s.life(person{user: user, laptop: thunderbird, busyMin: 3, busyMax: 9, sunday: true,
		home:  func(d int) addr { return byDay[d] },
		phone: func() addr { return vivozap(s.in("152.244.2.0/23")) }, phoneC: iphone})
	s.colleagues("ana", "pedro")
	return s
}

// 8. Home and office on two networks.
func homeAndOffice(seed uint64) *scenario {
	s := newScenario("home-and-office.log", seed)
	const user = "marcos.oliveira@example.test"
	home := virtua(s.in("187.122.8.0/21"))
	s.life(person{user: user, laptop: thunderbird, office: true, busyMin: 3, busyMax: 8, sunday: true,
		home: func(int) addr { return home }})
	s.colleagues("ana")
	return s
}

// 9. A salesman who mails from his phone all day: the carrier gives a new
// address at nearly every session, from pools that GeoLite2 places in São
// Paulo, Rio de Janeiro or only in Brazil.
func phoneHopping(seed uint64) *scenario {
	s := newScenario("phone-hopping.log", seed)
	const user = "juliana.santos@example.test"
	pools := []string{"177.48.0.0/15", "177.164.0.0/15", "177.30.32.0/20", "177.50.16.0/20", "177.121.192.0/20", "177.48.0.0/15"}
	phone := func() addr { return none(s.in(pools[s.r.IntN(len(pools))])) }
	home := telesp(s.in("177.138.20.0/22"))
	s.users = append(s.users, user)
	for d := first; d <= last; d++ {
		wd := day(d).Weekday()
		if wd == time.Saturday || wd == time.Sunday {
			for _, t := range s.times(s.r.IntN(3), d, 9, 21) {
				s.send(t, user, phone(), iphone, 1)
			}
			continue
		}
		if wd == time.Monday { // the weekly meeting at the office
			for _, t := range s.times(1+s.r.IntN(3), d, 9, 12) {
				s.send(t, user, office, iphone, 1)
			}
		}
		for _, t := range s.times(4+s.r.IntN(7), d, 8, 19) {
			if wd == time.Monday && t.Hour() < 12 {
				continue
			}
			s.send(t, user, phone(), iphone, 1)
		}
		for _, t := range s.times(s.r.IntN(3), d, 20, 23) {
			s.send(t, user, home, thunderbird, 1)
		}
	}
	s.colleagues("pedro")
	return s
}

// 10. Gmail "send mail as": every message through our submission port from
// one of Gmail's many servers.
func gmailUser(seed uint64) *scenario {
	s := newScenario("gmail-send-as.log", seed)
	const user = "ricardo.souza@example.test"
	s.gmailLife(user, gmail)
	phone := vivozap(s.in("152.244.2.0/23"))
	s.send(at(4, 12, 41).Add(9*time.Second), user, phone, iphone, 1)
	s.send(at(8, 16, 2).Add(33*time.Second), user, vivozap(s.in("152.244.2.0/23")), iphone, 1)
	s.colleagues("ana", "pedro")
	return s
}

// 11. A traveller: the office on Monday, the night flight to Madrid, the
// hotel from Tuesday to Friday, home on Saturday.
func traveller(seed uint64) *scenario {
	s := newScenario("traveller.log", seed)
	const user = "eduardo.martins@example.test"
	p := worker(s, user, outlook, telesp(s.in("177.138.20.0/22")), func() addr { return vivozap(s.in("152.244.2.0/23")) }, iphone)
	p.away = func(d int) bool { return d >= 10 && d <= 13 }
	s.life(p)
	s.colleagues("ana", "pedro")
	// Monday 9: from the airport before the 21:40 flight (lands 13:05 in
	// Madrid, 09:05 here)
	s.send(at(9, 19, 6).Add(14*time.Second), user, vivozap(s.in("152.244.2.0/23")), iphone, 1)
	hotel := rimaTDE(s.in("79.148.0.0/19"))
	s.send(at(10, 12, 34).Add(51*time.Second), user, hotel, outlook, 2) // 16:34 in Madrid
	fair := rimaTDE(s.in("79.148.0.0/19"))
	for d := 10; d <= 13; d++ {
		if d > 10 {
			for _, t := range s.times(1+s.r.IntN(2), d, 3, 5) { // 07:00-09:00 in Madrid
				s.send(t, user, hotel, outlook, 1)
			}
			for _, t := range s.times(1+s.r.IntN(3), d, 6, 12) { // at the fair
				s.send(t, user, fair, iphone, 1)
			}
		}
		if d < 13 {
			for _, t := range s.times(1+s.r.IntN(3), d, 15, 19) {
				s.send(t, user, hotel, outlook, 1)
			}
		}
	}
	return s
}

// 12. A consultant whose laptop goes through her client's corporate VPN
// (Zscaler), whose exit is in the United States, every day.
func vpnAbroad(seed uint64) *scenario {
	s := newScenario("vpn-abroad.log", seed)
	const user = "aline.barbosa@example.test"
	vpn := func() addr { return none(s.in("165.225.8.0/23")) }
	exits := []addr{vpn(), vpn(), vpn()}
	s.life(person{user: user, laptop: outlook, office: true, busyMin: 3, busyMax: 8,
		work:  func() addr { return exits[s.r.IntN(len(exits))] },
		home:  func(int) addr { return exits[s.r.IntN(len(exits))] },
		phone: func() addr { return vivozap(s.in("152.240.0.0/16")) }, phoneC: iphone})
	s.colleagues("ana", "pedro")
	return s
}

// 13. A user who moves to Lisbon for good and goes on working from there.
func moved(seed uint64) *scenario {
	s := newScenario("moved-abroad.log", seed)
	const user = "gabriel.nunes@example.test"
	p := worker(s, user, thunderbird, virtua(s.in("179.208.10.0/23")), func() addr { return none(s.in("177.164.0.0/15")) }, android)
	p.away = func(d int) bool { return d >= 7 }
	s.life(p)
	s.colleagues("ana", "pedro")
	// Saturday 7: a last message from home, the 17:00 flight (lands 06:40
	// in Lisbon on Sunday, 03:40 here)
	s.send(at(7, 10, 12).Add(4*time.Second), user, p.home(7), thunderbird, 1)
	flat := netcabo(s.in("79.168.0.0/20"))
	meo := func() addr { return none(s.in("82.154.0.0/19")) }
	s.send(at(8, 15, 48).Add(22*time.Second), user, meo(), android, 1) // 18:48 in Lisbon
	for d := 9; d <= last; d++ {
		wd := day(d).Weekday()
		if wd != time.Saturday && wd != time.Sunday {
			for _, t := range s.times(3+s.r.IntN(6), d, 6, 15) { // 09:00-18:00 in Lisbon
				s.send(t, user, flat, thunderbird, 1)
			}
		}
		for _, t := range s.times(s.r.IntN(3), d, 5, 19) {
			s.send(t, user, meo(), android, 1)
		}
	}
	return s
}

// 14. A traveller whose phone roams: abroad, its data goes home through
// the Brazilian carrier (home-routed roaming), so the phone keeps Brazilian
// addresses while the laptop uses the hotel's.
func travellerRoaming(seed uint64) *scenario {
	s := newScenario("traveller-roaming.log", seed)
	const user = "renata.gomes@example.test"
	phone := func() addr { return vivozap(s.in("152.240.0.0/16")) }
	p := worker(s, user, outlook, telesp(s.in("177.102.32.0/22")), phone, iphone)
	p.away = func(d int) bool { return d >= 10 && d <= 13 }
	s.life(p)
	s.colleagues("ana")
	hotel := rimaTDE(s.in("79.148.0.0/19"))
	s.send(at(10, 13, 2).Add(8*time.Second), user, hotel, outlook, 1) // 17:02 in Madrid
	for d := 10; d <= 13; d++ {
		if d > 10 {
			for _, t := range s.times(1+s.r.IntN(2), d, 3, 5) {
				s.send(t, user, hotel, outlook, 1)
			}
		}
		for _, t := range s.times(2+s.r.IntN(3), d, 5, 18) { // roaming, all day
			s.send(t, user, phone(), iphone, 1)
		}
		if d < 13 {
			for _, t := range s.times(1+s.r.IntN(2), d, 15, 19) {
				s.send(t, user, hotel, outlook, 1)
			}
		}
	}
	return s
}

// 15. The password of a quiet account: its owner, a partner who works part
// time, sends a message or two a week from home; a thief who got the
// password from a phishing page uses it from one address in Lagos on two
// evenings, to send phishing to her contacts, without a failed login.
func quietAccount(seed uint64) *scenario {
	s := newScenario("quiet-account.log", seed)
	const user = "helena.castro@example.test"
	s.users = append(s.users, user)
	home := telesp(s.in("177.102.32.0/22"))
	for _, v := range []struct{ d, h, m, n int }{{2, 20, 14, 1}, {4, 9, 51, 2}, {8, 17, 36, 1}, {13, 10, 5, 1}} {
		s.send(at(v.d, v.h, v.m).Add(s.jitter(time.Minute)), user, home, thunderbird, v.n)
	}
	s.send(at(6, 13, 22).Add(s.jitter(time.Minute)), user, vivozap(s.in("152.244.2.0/23")), iphone, 1)
	s.colleagues("ana")
	lagos := none(s.in("105.112.8.0/22"))
	for _, v := range []struct{ d, h1, h2, n int }{{10, 19, 21, 12}, {11, 18, 20, 14}} {
		for _, t := range s.times(v.n, v.d, v.h1, v.h2) {
			s.send(t, user, lagos, thunderbird, 1)
		}
	}
	return s
}

// 16. A shared mailbox: the customer service's address, answered by
// Paula at the office in São Paulo and by Tiago, the company's man in
// Lisbon, each on working days, often minutes apart. From Tuesday 10 to
// Thursday 12 November Tiago is at a trade fair in Madrid (the hotel's
// line, the fair's), answering from there while Paula goes on at the
// office: an impossible trip for one person, not for two.
func sharedMailbox(seed uint64) *scenario {
	s := newScenario("shared-mailbox.log", seed)
	const user = "atendimento@example.test"
	s.users = append(s.users, user)
	flat := netcabo(s.in("79.168.0.0/20"))
	hotel, fair := rimaTDE(s.in("79.148.0.0/19")), rimaTDE(s.in("79.148.0.0/19"))
	for d := first + 1; d <= last; d++ {
		wd := day(d).Weekday()
		if wd == time.Saturday || wd == time.Sunday {
			continue
		}
		for _, t := range s.times(4+s.r.IntN(5), d, 9, 18) { // Paula
			s.send(t, user, office, outlook, 1)
		}
		if d >= 10 && d <= 12 { // Tiago in Madrid (UTC+1: four hours ahead)
			for _, t := range s.times(1+s.r.IntN(2), d, 4, 5) {
				s.send(t, user, hotel, thunderbird, 1)
			}
			for _, t := range s.times(2+s.r.IntN(3), d, 6, 13) {
				s.send(t, user, fair, thunderbird, 1)
			}
			continue
		}
		for _, t := range s.times(3+s.r.IntN(4), d, 6, 15) { // Tiago, 09:00-18:00 in Lisbon
			s.send(t, user, flat, thunderbird, 1)
		}
	}
	s.colleagues("ana", "pedro")
	return s
}

// 17. One login from the other side of the world while the owner is at
// home: Lúcia works from home in Campinas through Claro's 4G home router
// (located to Campinas, 100 km), whose address stays the same while the
// router is on, and changes when it reconnects, about daily. On Thursday
// 12 November, between her messages of 15:12 and 16:05 from her router,
// someone who phished her password sends one message from Hanoi.
func farBetweenHome(seed uint64) *scenario {
	s := newScenario("far-between-home.log", seed)
	const user = "lucia.ramos@example.test"
	router := map[int]addr{}
	home := func(d int) addr {
		if _, ok := router[d]; !ok {
			router[d] = none(s.in("179.241.0.0/19"))
		}
		return router[d]
	}
	s.life(person{user: user, laptop: thunderbird, busyMin: 3, busyMax: 7, home: home})
	s.send(at(12, 15, 12).Add(s.jitter(time.Minute)), user, home(12), thunderbird, 1)
	s.send(at(12, 15, 40).Add(s.jitter(time.Minute)), user, none(s.in("27.72.0.0/19")), thunderbird, 1)
	s.send(at(12, 16, 5).Add(s.jitter(time.Minute)), user, home(12), thunderbird, 1)
	s.colleagues("ana")
	return s
}

// 18. One login from far away minutes after the owner's only use of her
// line's address of the day: she works from home through a 4G router
// located vaguely, whose address changes when it reconnects (about daily)
// and is held all day; on her day off she sends two messages early from
// the day's new address and goes out; 20 minutes later a phished password
// is used from Lagos (6,000 km: a night's flight from her last use of the
// day before), and she sends nothing more that day.
func lineOfTheDay(seed uint64) *scenario {
	s := newScenario("line-of-the-day.log", seed)
	const user = "marina.teixeira@example.test"
	router := map[int]addr{}
	home := func(d int) addr {
		if _, ok := router[d]; !ok {
			router[d] = none(s.in("179.241.0.0/19"))
		}
		return router[d]
	}
	s.life(person{user: user, laptop: thunderbird, busyMin: 3, busyMax: 7, home: home, away: func(d int) bool { return d == 13 }})
	s.send(at(13, 7, 41).Add(s.jitter(time.Minute)), user, home(13), thunderbird, 1)
	s.send(at(13, 7, 52).Add(s.jitter(time.Minute)), user, home(13), thunderbird, 1)
	s.send(at(13, 8, 14).Add(s.jitter(time.Minute)), user, none(s.in("105.112.8.0/22")), thunderbird, 1)
	s.colleagues("ana")
	return s
}

// 19. One login from far away between the owner's logins from a mobile
// network: Sofia works from home on her iPhone and its hotspot (Apple
// Mail: SASL PLAIN), on TIM's 4G, located to Brazil only, another
// address at each session. On Wednesday 11 November, between her
// messages of 14:20 and 15:35, someone who phished her password sends
// two messages from Hanoi with a mass-mailing tool (SASL LOGIN).
func farBetweenPhone(seed uint64) *scenario {
	s := newScenario("far-between-phone.log", seed)
	const user = "sofia.ribeiro@example.test"
	s.life(person{user: user, laptop: iphone, busyMin: 3, busyMax: 7, home: func(int) addr { return none(s.in("177.48.0.0/15")) }})
	s.send(at(11, 14, 20).Add(s.jitter(time.Minute)), user, none(s.in("177.48.0.0/15")), iphone, 1)
	s.send(at(11, 14, 52).Add(s.jitter(time.Minute)), user, none(s.in("27.72.0.0/19")), spamTool, 2)
	s.send(at(11, 15, 35).Add(s.jitter(time.Minute)), user, none(s.in("177.48.0.0/15")), iphone, 1)
	s.colleagues("ana")
	return s
}

// 20. A password checked once: Beatriz, like Sofia, works from home on
// her iPhone (Apple Mail, SASL PLAIN) on TIM's 4G, located to Brazil
// only. On Tuesday 10 November, 17 minutes after her message of 10:05,
// one login from Hanoi sends one message, with a tool that also uses
// PLAIN: the buyer of a phished list checking that the password works.
// Nothing comes from there again; she goes on as every day.
func checkedOnce(seed uint64) *scenario {
	s := newScenario("checked-once.log", seed)
	const user = "beatriz.lima@example.test"
	s.life(person{user: user, laptop: iphone, busyMin: 3, busyMax: 7, home: func(int) addr { return none(s.in("177.48.0.0/15")) }})
	s.send(at(10, 10, 5).Add(s.jitter(time.Minute)), user, none(s.in("177.48.0.0/15")), iphone, 1)
	s.send(at(10, 10, 22).Add(s.jitter(time.Minute)), user, none(s.in("27.72.0.0/19")), iphone, 1)
	s.colleagues("pedro")
	return s
}
