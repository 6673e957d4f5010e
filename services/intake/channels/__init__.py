"""Channel adapters: the WeCom self-built app and the official account (公众号).

`callback` is the one request flow both follow (verify, decrypt, record, reply); `wecom` and
`official_account` say only what differs; `security`, `xml` and `inbound` are the checks,
the parsing and the business rule they share.
"""
