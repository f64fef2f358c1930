"""Every bad flag stops the daemon at start: exit 2, one line naming the flag."""
import harness as h

cases = [
    ([], "--trunk"),
    (["--trunk=127.0.0.1:5070", "--listen=nohost:99999"], "--listen"),
    (["--trunk=sip:carrier.example.net;transport=sctp"], "--trunk"),
    (["--trunk=sips:carrier.example.net", "--tls_ca=/nonexistent/ca.pem"], "--tls_ca"),
    (["--trunk=sips:carrier.example.net", "--tls_cert=/nonexistent/c.pem"], "--tls_cert"),
    (["--trunk=127.0.0.1:5070", "--trunk_timeout=1s"], "--trunk_timeout"),
    (["--trunk=127.0.0.1:5070", "--dns_resolv_conf=/nonexistent/resolv.conf"], "--dns_resolv_conf"),
    (["--trunk=127.0.0.1:5070", "--trunks_file=/etc/hostname"], "--trunks_file"),
    (["--trunk=127.0.0.1:5070", "--allow=10.0.0.0/33"], "--allow"),
    (["--trunk=127.0.0.1:5070", "--caller_id=pai,smoke"], "--caller_id"),
    (["--trunk=127.0.0.1:5070", "--default_country_code=0044"], "--default_country_code"),
    (["--trunk=127.0.0.1:5070", "--timezone=Mars/Olympus"], "--timezone"),
    (["--trunk=127.0.0.1:5070", "--rules=603>=15%/15m:explode"], "--rules"),
    (["--trunk=127.0.0.1:5070", "--rules=488>10%/1h:throttle"], "--rules"),
    (["--trunk=127.0.0.1:5070", "--min_attempts=0"], "--min_attempts"),
    (["--trunk=127.0.0.1:5070", "--min_attempts=many"], "--min_attempts"),
    (["--trunk=127.0.0.1:5070", "--throttled_cpm=0"], "--throttled_cpm"),
    (["--trunk=127.0.0.1:5070", "--quarantine_for=soon"], "--quarantine_for"),
    (["--trunk=127.0.0.1:5070", "--reject_code=200"], "--reject_code"),
    (["--trunk=127.0.0.1:5070", "--metrics_listen=localhost"], "--metrics_listen"),
    (["--trunk=127.0.0.1:5070", "--cdr_file=/nonexistent/dir/cdr.jsonl"], "--cdr_file"),
    (["--trunk=127.0.0.1:5070", "--carriers=/nonexistent.csv"], "--carriers"),
    (["--trunk=127.0.0.1:5070", "--max_numbers=-5"], "--max_numbers"),
    (["--trunk=127.0.0.1:5070", "--trunk_auth_user=bob"], "--trunk_auth_password_file"),
    (["--trunk=127.0.0.1:5070", "--no_such_flag=1"], "--no_such_flag"),
    (["--trunk=127.0.0.1:5070", "--tcp_idle_timeout=0"], "--tcp_idle_timeout"),
    (["--trunk=127.0.0.1:5070", "--ring_timeout=2h"], "--ring_timeout"),
    (["--trunk=127.0.0.1:5070", "--tcp_max_connections=0"], "--tcp_max_connections"),
    (["--trunk=127.0.0.1:5070", "--pass_headers=Identity,X Bad"], "--pass_headers"),
    (["--trunk=127.0.0.1:5070", "--pass_headers=Via"], "--pass_headers"),
    (["--trunk=127.0.0.1:5070", "--refer=maybe"], "--refer"),
    (["--trunk=127.0.0.1:5070", "--strip_headers=X:"], "--strip_headers"),
    (["--trunk=127.0.0.1:5070", "--tcp_max_per_source=5000"], "--tcp_max_per_source"),
    (["--trunk=127.0.0.1:5070", "--false_alarm_rate=0"], "--false_alarm_rate"),
    (["--trunk=127.0.0.1:5070", "--baseline_days=-1"], "--baseline_days"),
    (["--trunk=127.0.0.1:5070", "--rules=603pre>=15%/1h:panic"], "--rules"),
]
for args, flag in cases:
    p = h.run_sippacer(args)
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    h.check_eq(p.returncode, 2, f"exit code for {args}")
    h.check(len(lines) == 1 and flag in lines[0], f"{args}: want one line naming {flag}, got {p.stderr!r}")
    h.check("password" not in p.stdout, "output mentions a password")
print(f"flags: {len(cases)} bad values refused")
