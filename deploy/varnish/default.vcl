vcl 4.1;

# Varnish in front of the site with the render cache's edge mode (RENDER_CACHE_EDGE=true):
# one cached copy per (page URL, personalization key), shared by every visitor with that key,
# the per-visitor holes filled by ESI on every delivery. See docs/operator-guide.md, "Edge
# caching". Tested by tests/e2e/test_edge_varnish.py (Debian's varnish 7).
#
# Each site page view:
#   1. asks the origin for the visitor's key: GET /api/v1/decide/?path=<page URL>, with the
#      visitor's own headers (cookies, user agent, referrer); the origin counts the page view;
#   2. restarts with that key in X-Personalization-Key and looks the page up under it;
#   3. on a miss, the origin checks the key is exactly the visitor's own and answers a
#      shareable copy (Cache-Control: public, s-maxage) whose holes are <esi:include>s.
# No key (a first visit, a members-only page, a page the origin has not rendered yet): the
# page comes from the origin, private, and is never stored here.

backend origin {
    .host = "127.0.0.1";
    .port = "8000";
}

sub vcl_recv {
    if (req.restarts == 0) {
        # Only the origin names keys: whatever a client sends is dropped.
        unset req.http.X-Personalization-Key;
        unset req.http.X-Edge-Page;
        unset req.http.X-Edge-Decided;
        unset req.http.Surrogate-Capability;
    }
    if (req.esi_level > 0) {
        # A hole of a shared copy, for this visitor: never stored.
        return (pass);
    }
    if (req.method != "GET") {
        return (pass);
    }
    if (req.url ~ "^/(static|media)/") {
        unset req.http.Cookie;
        return (hash);
    }
    if (req.url ~ "^/(admin|django-admin|api|account|personalization|documents|_edge)(/|$)"
        || req.http.Authorization) {
        return (pass);
    }
    if (!req.http.X-Edge-Decided) {
        # Step 1: the visitor's key of this page (the page URL, percent-encoded where a
        # query string needs it).
        set req.http.X-Edge-Page = req.url;
        set req.url = "/api/v1/decide/?path=" + regsuball(regsuball(regsuball(
            req.url, "%", "%25"), "&", "%26"), "\+", "%2B");
        return (pass);
    }
    if (!req.http.X-Personalization-Key) {
        return (pass);
    }
    return (hash);
}

sub vcl_hash {
    hash_data(req.url);
    if (req.http.host) {
        hash_data(req.http.host);
    } else {
        hash_data(server.ip);
    }
    hash_data(req.http.X-Personalization-Key);
    return (lookup);
}

sub vcl_backend_fetch {
    if (bereq.http.X-Personalization-Key) {
        # We resolve ESI: the origin may answer a copy whose holes are includes.
        set bereq.http.Surrogate-Capability = {"varnish="ESI/1.0""};
    }
}

sub vcl_backend_response {
    if (beresp.http.Surrogate-Control ~ "ESI/1.0") {
        unset beresp.http.Surrogate-Control;
        set beresp.do_esi = true;
        unset beresp.http.ETag;  # the delivered page differs per visitor
    }
    if (bereq.url ~ "^/(static|media)/") {
        return (deliver);
    }
    if (bereq.uncacheable) {
        return (deliver);
    }
    if (bereq.http.X-Personalization-Key
        && beresp.http.X-Personalization-Key == bereq.http.X-Personalization-Key
        && beresp.http.Cache-Control ~ "public"
        && !beresp.http.Set-Cookie
        && beresp.status == 200) {
        # A shareable copy, exactly for the key we asked with: kept (TTL from s-maxage).
        set beresp.http.Vary = "X-Personalization-Key";
        set beresp.grace = 10s;
        return (deliver);
    }
    # Anything else belongs to one visitor (or failed): never stored, never shared.
    set beresp.ttl = 10s;
    set beresp.uncacheable = true;
    return (deliver);
}

sub vcl_deliver {
    if (req.esi_level == 0 && req.http.X-Edge-Page && !req.http.X-Edge-Decided) {
        # Step 2: back to the page, with the key if the origin gave one.
        set req.http.X-Edge-Decided = "1";
        if (resp.status == 200 && resp.http.X-Personalization-Key) {
            set req.http.X-Personalization-Key = resp.http.X-Personalization-Key;
        }
        set req.url = req.http.X-Edge-Page;
        return (restart);
    }
    if (req.esi_level == 0 && req.http.X-Personalization-Key) {
        if (obj.hits > 0) {
            set resp.http.X-Cache = "HIT";
        } else {
            set resp.http.X-Cache = "MISS";
        }
        # Filled for this visitor: their browser alone may keep it.
        set resp.http.Cache-Control = "private, no-cache";
        unset resp.http.Vary;
    } elsif (req.esi_level == 0 && req.url !~ "^/(static|media)/") {
        set resp.http.X-Cache = "PASS";
    }
}
