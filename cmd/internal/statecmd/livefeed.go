package statecmd

import "github.com/loganom/loganom/pkg/report"

// FeedLive gives a live report what it reads of the state: each account's
// history and what it showed of several people using it when the account
// is met, the site's history for the census, and the rows written since
// by the other mail servers, the failed logins of the window before its
// first line and those the other mail servers record since (LiveHistory,
// LiveSharing, LiveSite, LiveRecent, LiveFailures, LiveOthersFailures).
// A nil State gives none: the report judges without a state.
func (s *State) FeedLive(rep *report.Live) {
	if s == nil {
		return
	}
	rep.History = s.LiveHistory()
	rep.Sharing = s.LiveSharing()
	rep.Site = s.LiveSite()
	rep.Recent = s.LiveRecent()
	rep.Failures = s.LiveFailures()
	rep.OthersFailures = s.LiveOthersFailures()
}
