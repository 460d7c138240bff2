package blockcmd

import (
	"context"
	"errors"
	"log/slog"
	"net"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/cmd/internal/statecmd"
	"github.com/loganom/loganom/pkg/api"
)

// APIFlags are the HTTP API's settings ([API]); a command that runs the
// API embeds them (loganom serve; loganom postfix-sasl --follow can too).
type APIFlags struct {
	APIListen    string `name:"api-listen" ini:"API.listen" placeholder:"ADDR" help:"Serve the HTTP API on ADDR: HOST:PORT (like 127.0.0.1:8731) or unix:/PATH ([API] listen; default: no API). Another address than loopback needs --api-cert and --api-key."`
	APITokenFile string `name:"api-token-file" ini:"API.token_file" placeholder:"FILE" help:"The API's tokens, one a line: NAME TOKEN [read|block] (read: the GET routes only; block, the default: every route), or a bare TOKEN, named default; mode 0600, read again when it changes ([API] token_file; required with the API)."`
	APICert      string `name:"api-cert" ini:"API.cert" placeholder:"FILE" help:"Serve HTTPS with this certificate chain, PEM ([API] cert; with --api-key). Read again when it changes."`
	APIKey       string `name:"api-key" ini:"API.key" placeholder:"FILE" help:"The certificate's private key, PEM ([API] key)."`
}

// Enabled tells whether the API is to run: [API] listen (--api-listen)
// is set.
func (f *APIFlags) Enabled() bool { return f.APIListen != "" }

// StartAPI checks the flags (the token file and its mode, the TLS pair,
// the address: loopback unless TLS), listens, and serves the HTTP API on
// st in the background until ctx is done; then it stops (the requests
// begun get api.ShutdownTimeout) and done receives nil, or the error that
// stopped it before. addr is where it listens. A bad setting is a
// cli.UsageError wrapping an *api.ConfigError, whose Hint Fail prints.
// Changes are written to st's audit trail by "api:NAME", the token's name.
func (f *APIFlags) StartAPI(ctx context.Context, st api.Store, caseSensitive bool, logger *slog.Logger) (addr net.Addr, done <-chan error, err error) {
	srv, err := api.New(api.Config{Store: st, Listen: f.APIListen, TokenFile: f.APITokenFile, CertFile: f.APICert, KeyFile: f.APIKey,
		CaseSensitiveUsers: caseSensitive, Logger: logger})
	if err != nil {
		return nil, nil, cli.UsageError{Err: err}
	}
	ln, err := srv.Listen()
	if err != nil {
		return nil, nil, err
	}
	ch := make(chan error, 1)
	go func() { ch <- srv.Serve(ctx, ln) }()
	return ln.Addr(), ch, nil
}

// Fail prints err, and the hint of an *api.ConfigError in it, and returns
// the exit code.
func Fail(log *cli.Logger, err error) int {
	code := statecmd.Fail(log, err)
	var ce *api.ConfigError
	if errors.As(err, &ce) && ce.Hint != "" {
		log.Hintf("%s", ce.Hint)
	}
	return code
}
