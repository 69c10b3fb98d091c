package main

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/epsilon-db/epsilon/arrowio"
	"github.com/epsilon-db/epsilon/store"
)

func init() { register(newServeCommand) }

type serveOptions struct {
	db, addr, tokenFile, tlsCert, tlsKey string
	insecure, readOnly                   bool
	maxRegionBytes                       int64
}

func newServeCommand() *cobra.Command {
	var o serveOptions
	cmd := &cobra.Command{
		Use:   "serve --db DIR [--addr 127.0.0.1:8815]",
		Short: "Serve the arrays and particle datasets of a store over Arrow Flight",
		Long: `Serve answers Arrow Flight calls on --addr: ListFlights lists every array
and particle dataset, GetFlightInfo cuts an array into endpoints that can
be read in parallel, DoGet streams an array, a region of it or a particle
dataset (with friends-of-friends groups on request), DoPut creates an
array from record batches, and the stat action returns what inspect
--json prints.

The server listens on the loopback interface by default. Listening on any
other address needs --token-file (every call must then carry the header
"authorization: Bearer TOKEN") or an explicit --insecure. --tls-cert and
--tls-key turn on TLS. The server stops on SIGINT or SIGTERM.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runServe(cmd, &o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.db, "db", "", "store folder (created if missing, unless --read-only)")
	f.StringVar(&o.addr, "addr", "127.0.0.1:8815", "host:port to listen on; port 0 picks a free port")
	f.StringVar(&o.tokenFile, "token-file", "", "file whose first line is the bearer token every call must carry")
	f.BoolVar(&o.insecure, "insecure", false, "allow a non-loopback --addr without --token-file")
	f.StringVar(&o.tlsCert, "tls-cert", "", "PEM certificate file for TLS (with --tls-key)")
	f.StringVar(&o.tlsKey, "tls-key", "", "PEM private key file for TLS (with --tls-cert)")
	f.BoolVar(&o.readOnly, "read-only", false, "open the store read-only; DoPut then fails with PermissionDenied")
	f.Int64Var(&o.maxRegionBytes, "max-region-bytes", 4<<30, "largest decoded size in bytes of one read or write request")
	_ = cmd.MarkFlagRequired("db")
	return cmd
}

func runServe(cmd *cobra.Command, o *serveOptions) error {
	host, _, err := net.SplitHostPort(o.addr)
	if err != nil {
		return fmt.Errorf("invalid --addr %q: %w", o.addr, err)
	}
	token := ""
	if o.tokenFile != "" {
		b, err := os.ReadFile(o.tokenFile)
		if err != nil {
			return fmt.Errorf("--token-file: %w", err)
		}
		token, _, _ = strings.Cut(string(b), "\n")
		token = strings.TrimSpace(token)
		if len(token) < 16 {
			return fmt.Errorf("--token-file %s: the token has %d characters, at least 16 are needed", o.tokenFile, len(token))
		}
	}
	if !isLoopback(host) && token == "" && !o.insecure {
		return fmt.Errorf("--addr %s is not a loopback address: give --token-file, or --insecure to serve without authentication", o.addr)
	}
	if (o.tlsCert == "") != (o.tlsKey == "") {
		return fmt.Errorf("--tls-cert and --tls-key go together: give both or neither")
	}
	var grpcOpts []grpc.ServerOption
	if o.tlsCert != "" {
		pair, err := tls.LoadX509KeyPair(o.tlsCert, o.tlsKey)
		if err != nil {
			return fmt.Errorf("load TLS key pair: %w", err)
		}
		grpcOpts = append(grpcOpts, grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12})))
	}

	var db *store.DB
	if o.readOnly {
		db, err = openExisting(o.db, true)
	} else {
		db, err = store.Open(o.db, nil)
	}
	if err != nil {
		return err
	}
	defer db.Close()
	logger := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
	srv, err := arrowio.NewServer(db, arrowio.ServerOptions{MaxRegionBytes: o.maxRegionBytes, Token: token, Logger: logger})
	if err != nil {
		return err
	}
	fs := srv.NewFlightServer(grpcOpts...)
	if err := fs.Init(o.addr); err != nil {
		return fmt.Errorf("listen on %s: %w", o.addr, err)
	}
	fs.SetShutdownOnSignals(os.Interrupt, syscall.SIGTERM)
	scheme := "grpc+tcp"
	if o.tlsCert != "" {
		scheme = "grpc+tls"
	}
	// The first line on standard output is the address, so that scripts
	// started with port 0 can read the port.
	fmt.Fprintf(cmd.OutOrStdout(), "serving %s on %s://%s\n", o.db, scheme, fs.Addr())
	logger.Info("flight server started", "db", o.db, "addr", fs.Addr().String(), "tls", o.tlsCert != "", "token", token != "")
	err = fs.Serve()
	logger.Info("flight server stopped", "addr", fs.Addr().String())
	return err
}

// isLoopback reports whether host names only loopback addresses. An empty
// host (":8815") means every interface.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
