//! Sending one message: over SMTP with lettre, or into an `.eml` file.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use cit_store::outbox::Outgoing;
use lettre::message::header::ContentType;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, Message, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::{MailSettings, TlsMode, TransportKind};

pub enum Transport {
    File(PathBuf),
    Smtp(Box<AsyncSmtpTransport<Tokio1Executor>>),
}

impl Transport {
    pub fn from_settings(mail: &MailSettings, data_dir: &std::path::Path) -> anyhow::Result<Self> {
        match mail.transport {
            TransportKind::File => Ok(Self::File(mail.dir.clone().unwrap_or_else(|| data_dir.join("mail")))),
            TransportKind::Smtp => {
                let s = &mail.smtp;
                let mut b = match s.tls {
                    TlsMode::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&s.host),
                    TlsMode::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&s.host)
                        .with_context(|| format!("SMTP host {}", s.host))?,
                    TlsMode::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&s.host)
                        .with_context(|| format!("SMTP host {}", s.host))?,
                };
                b = b.port(s.port).timeout(Some(Duration::from_secs(s.timeout_secs.max(1))));
                if let (Some(user), Some(password)) = (&s.user, &s.password) {
                    b = b.credentials(Credentials::new(user.clone(), password.expose().to_owned()));
                }
                Ok(Self::Smtp(Box::new(b.build())))
            }
        }
    }

    /// Sends one claimed message; its id names the file of the file transport and is the
    /// `Message-ID`, the same on every attempt.
    pub async fn send(&self, from: &str, m: &Outgoing) -> anyhow::Result<()> {
        let id = m.id;
        let from: Mailbox = from.parse().context("the sender address (mail.from) is not valid")?;
        let to: Mailbox = m.recipient.parse().with_context(|| format!("the recipient {} is not valid", m.recipient))?;
        let builder = Message::builder().from(from).to(to).subject(&m.subject).message_id(Some(format!("<{id}@cit>")));
        let text = SinglePart::builder().header(ContentType::TEXT_PLAIN).body(m.body.clone());
        let mut message = if m.attachments.is_empty() {
            builder.singlepart(text)
        } else {
            let mut parts = MultiPart::mixed().singlepart(text);
            for a in &m.attachments {
                let kind = ContentType::parse(&a.content_type)
                    .with_context(|| format!("attachment {}: content type {}", a.name, a.content_type))?;
                parts = parts.singlepart(Attachment::new(a.name.clone()).body(a.content.clone(), kind));
            }
            builder.multipart(parts)
        }
        .context("cannot build the message")?;
        for (name, value) in &m.headers {
            let name = HeaderName::new_from_ascii(name.clone()).with_context(|| format!("header name {name}"))?;
            message.headers_mut().insert_raw(HeaderValue::new(name, value.clone()));
        }
        match self {
            Transport::File(dir) => {
                tokio::fs::create_dir_all(dir).await.with_context(|| format!("cannot create {}", dir.display()))?;
                let tmp = dir.join(format!(".{id}.eml.tmp"));
                let done = dir.join(format!("{id}.eml"));
                tokio::fs::write(&tmp, message.formatted())
                    .await
                    .with_context(|| format!("cannot write {}", tmp.display()))?;
                tokio::fs::rename(&tmp, &done).await.with_context(|| format!("cannot write {}", done.display()))?;
                Ok(())
            }
            Transport::Smtp(smtp) => {
                smtp.send(message).await.context("the SMTP server refused or could not be reached")?;
                Ok(())
            }
        }
    }
}
