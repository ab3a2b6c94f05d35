//! Webhooks: the events a tenant can subscribe to, and which targets may receive them.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The events a subscription can choose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WebhookEvent {
    EntryCreated,
    EntryUpdated,
    EntryPublished,
    EntryUnpublished,
    EntryDeleted,
    MediaCreated,
    MediaDeleted,
    ContentTypeChanged,
    SubmissionCreated,
    TicketCreated,
    TicketUpdated,
}

impl WebhookEvent {
    pub const ALL: [WebhookEvent; 11] = [
        WebhookEvent::EntryCreated,
        WebhookEvent::EntryUpdated,
        WebhookEvent::EntryPublished,
        WebhookEvent::EntryUnpublished,
        WebhookEvent::EntryDeleted,
        WebhookEvent::MediaCreated,
        WebhookEvent::MediaDeleted,
        WebhookEvent::ContentTypeChanged,
        WebhookEvent::SubmissionCreated,
        WebhookEvent::TicketCreated,
        WebhookEvent::TicketUpdated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WebhookEvent::EntryCreated => "entry.created",
            WebhookEvent::EntryUpdated => "entry.updated",
            WebhookEvent::EntryPublished => "entry.published",
            WebhookEvent::EntryUnpublished => "entry.unpublished",
            WebhookEvent::EntryDeleted => "entry.deleted",
            WebhookEvent::MediaCreated => "media.created",
            WebhookEvent::MediaDeleted => "media.deleted",
            WebhookEvent::ContentTypeChanged => "content_type.changed",
            WebhookEvent::SubmissionCreated => "submission.created",
            WebhookEvent::TicketCreated => "ticket.created",
            WebhookEvent::TicketUpdated => "ticket.updated",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        Self::ALL.into_iter().find(|e| e.as_str() == raw).ok_or_else(|| {
            let known: Vec<&str> = Self::ALL.iter().map(|e| e.as_str()).collect();
            format!("unknown event {raw:?}; the events are {}", known.join(", "))
        })
    }

    /// What an entry's write sets off, from its status before (`None`: a new entry) and after.
    pub fn of_entry_write(before: Option<&str>, after: &str) -> Vec<WebhookEvent> {
        let mut events = vec![if before.is_none() { WebhookEvent::EntryCreated } else { WebhookEvent::EntryUpdated }];
        let was = before == Some("published");
        let is = after == "published";
        if is && !was {
            events.push(WebhookEvent::EntryPublished);
        } else if was && !is {
            events.push(WebhookEvent::EntryUnpublished);
        }
        events
    }
}

/// A checked subscription target: an `http` or `https` URL with a host, no credentials, and
/// (unless the operator allows private targets) no loopback, private or link-local address
/// written in it. Names are resolved again at each delivery ([`is_public_ip`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookTarget(url::Url);

impl WebhookTarget {
    pub fn parse(raw: &str, allow_private: bool) -> Result<Self, String> {
        if raw.len() > 2000 {
            return Err("the URL is longer than 2000 characters".into());
        }
        let url = url::Url::parse(raw).map_err(|e| format!("not a URL: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err("the URL must be http or https".into());
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("the URL must not carry credentials".into());
        }
        let private = match url.host() {
            None => return Err("the URL has no host".into()),
            Some(url::Host::Ipv4(ip)) => !is_public_ip(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => !is_public_ip(IpAddr::V6(ip)),
            Some(url::Host::Domain(d)) => {
                let d = d.trim_end_matches('.').to_ascii_lowercase();
                d == "localhost" || d.ends_with(".localhost") || !d.contains('.')
            }
        };
        if private && !allow_private {
            return Err(
                "the target is a loopback, private or link-local address; the operator must allow private targets"
                    .into(),
            );
        }
        Ok(Self(url))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    pub fn url(&self) -> &url::Url {
        &self.0
    }
}

/// Whether an address is reachable on the public internet: not loopback, private (RFC 1918,
/// unique local), link-local, shared (CGNAT), unspecified, broadcast, multicast or documentation.
pub fn is_public_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || first == 0x2001 && ip.segments()[1] == 0x0db8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_targets_are_refused_unless_allowed() {
        for raw in [
            "http://127.0.0.1:9000/hook",
            "http://10.1.2.3/",
            "http://192.168.1.1/",
            "http://172.20.0.1/",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]/",
            "http://[fe80::1]/",
            "http://[fd00::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://localhost:8080/",
            "http://0.0.0.0/",
            "http://100.64.0.1/",
        ] {
            assert!(WebhookTarget::parse(raw, false).is_err(), "{raw}");
            assert!(WebhookTarget::parse(raw, true).is_ok(), "{raw}");
        }
        assert!(WebhookTarget::parse("https://hooks.example.org/cit", false).is_ok());
        assert!(WebhookTarget::parse("http://93.184.216.34/", false).is_ok());
    }

    #[test]
    fn only_http_urls_without_credentials() {
        for raw in ["ftp://hooks.example.org/", "file:///etc/passwd", "https://u:p@hooks.example.org/", "hooks"] {
            assert!(WebhookTarget::parse(raw, true).is_err(), "{raw}");
        }
    }

    #[test]
    fn entry_writes_set_off_their_events() {
        use WebhookEvent::*;
        assert_eq!(WebhookEvent::of_entry_write(None, "draft"), vec![EntryCreated]);
        assert_eq!(WebhookEvent::of_entry_write(None, "published"), vec![EntryCreated, EntryPublished]);
        assert_eq!(WebhookEvent::of_entry_write(Some("draft"), "published"), vec![EntryUpdated, EntryPublished]);
        assert_eq!(WebhookEvent::of_entry_write(Some("published"), "archived"), vec![EntryUpdated, EntryUnpublished]);
        assert_eq!(WebhookEvent::of_entry_write(Some("published"), "published"), vec![EntryUpdated]);
        assert!(WebhookEvent::parse("entry.nope").is_err());
    }
}
