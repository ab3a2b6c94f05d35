//! Forms as code: what the public may send a tenant (contact, interest, assistance, feedback).
//!
//! A form is written in a schema file as `[forms.<id>]` beside the content types, with the same
//! field definitions (`[[forms.<id>.fields]]`): a form's fields are checked by the same parser
//! and its submissions by the same validator as entries ([`crate::content::validate_data`]),
//! always in publish mode (every `required` field must have a value).

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::access::Role;
use crate::content::{ContentType, DataError, Field, FieldDef, FieldKind, FieldName, Mode, TypeId, validate_data};
use crate::error::InvalidInput;

/// The id of a form: `contatti`, `richiesta-assistenza`. `[a-z][a-z0-9-]{0,39}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FormId(String);

static FORM_ID_RE: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"^[a-z][a-z0-9-]{0,39}$").ok());

impl FormId {
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        if FORM_ID_RE.as_ref().is_some_and(|re| re.is_match(raw)) && !raw.ends_with('-') && !raw.contains("--") {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidInput::new("invalid_form_id", "a form id is lower-case letters, digits and single dashes"))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for FormId {
    type Error = InvalidInput;
    fn try_from(s: String) -> Result<Self, InvalidInput> {
        Self::parse(&s)
    }
}
impl From<FormId> for String {
    fn from(id: FormId) -> String {
        id.0
    }
}
impl fmt::Display for FormId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a form is for. An `assistance` form opens a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    Contact,
    Interest,
    Assistance,
    Feedback,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Contact => "contact",
            Purpose::Interest => "interest",
            Purpose::Assistance => "assistance",
            Purpose::Feedback => "feedback",
        }
    }
}

/// The privacy notice a sender must accept, by version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Privacy {
    /// The notice's version, e.g. "2026-01": a consent records which one was accepted.
    pub version: String,
    /// The consent's label, in Italian.
    pub label: String,
    /// Where the notice is, on the partner's site.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// Whether a submission may name a `servizio` and the requesting `ente`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Links {
    #[serde(default)]
    pub servizio: bool,
    #[serde(default)]
    pub ente: bool,
}

/// A form as written by people. Unknown keys are refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormDef {
    /// contact, interest, assistance, feedback.
    pub purpose: String,
    /// Italian title shown above the form.
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub privacy: Option<Privacy>,
    #[serde(default)]
    pub links: Links,
    /// The roles of the tenant's staff who are told of a new submission (operator, editor, admin).
    #[serde(default)]
    pub recipients: Vec<String>,
    /// Days a submission is kept before it is anonymised.
    pub retention_days: u32,
    /// The field (string, email) whose value is the requester's e-mail address, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    /// The field whose value is a ticket's subject (assistance forms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_from: Option<String>,
    /// The field whose value is the requester's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_from: Option<String>,
    /// The files a sender may attach (`[forms.<id>.attachments]`); without it, none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachments: Option<AttachmentsDef>,
    pub fields: Vec<FieldDef>,
}

/// `[forms.<id>.attachments]` as written: how many files, how big each, of which types.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachmentsDef {
    /// At most this many files per submission (1 to [`MAX_ATTACHMENT_FILES`]).
    pub max_files: u32,
    /// At most this many bytes per file (1 to [`MAX_ATTACHMENT_BYTES`]).
    pub max_bytes: u64,
    /// Allowed MIME types, among [`FILE_TYPES`]: `application/pdf`, `image/png`, `text/plain`, …
    pub types: Vec<String>,
}

/// A type of file a form may accept: its MIME type, its name for people, and the file name
/// endings that go with it. The server recognises each from the bytes, never from the name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileType {
    pub mime: &'static str,
    pub label: &'static str,
    pub extensions: &'static [&'static str],
}

/// Every type an attachment can be: the ones the server can recognise from their bytes.
pub const FILE_TYPES: &[FileType] = &[
    FileType { mime: "application/pdf", label: "PDF", extensions: &["pdf"] },
    FileType { mime: "image/png", label: "PNG", extensions: &["png"] },
    FileType { mime: "image/jpeg", label: "JPEG", extensions: &["jpg", "jpeg"] },
    FileType { mime: "image/gif", label: "GIF", extensions: &["gif"] },
    FileType { mime: "image/webp", label: "WebP", extensions: &["webp"] },
    FileType { mime: "text/plain", label: "testo", extensions: &["txt", "csv", "log"] },
    FileType { mime: "application/vnd.oasis.opendocument.text", label: "ODT", extensions: &["odt"] },
    FileType { mime: "application/vnd.oasis.opendocument.spreadsheet", label: "ODS", extensions: &["ods"] },
    FileType {
        mime: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        label: "DOCX",
        extensions: &["docx"],
    },
    FileType {
        mime: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        label: "XLSX",
        extensions: &["xlsx"],
    },
];

impl FileType {
    pub fn of_mime(mime: &str) -> Option<&'static FileType> {
        FILE_TYPES.iter().find(|t| t.mime == mime)
    }
    /// The type a file name claims by its ending, if it is one of [`FILE_TYPES`].
    pub fn of_name(name: &str) -> Option<&'static FileType> {
        let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
        FILE_TYPES.iter().find(|t| t.extensions.contains(&ext.as_str()))
    }
}

/// Most files one submission may carry.
pub const MAX_ATTACHMENT_FILES: u32 = 10;
/// Largest attachment a form may allow: 20 MiB.
pub const MAX_ATTACHMENT_BYTES: u64 = 20 * 1024 * 1024;

/// The checked `[forms.<id>.attachments]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentRules {
    pub max_files: usize,
    pub max_bytes: usize,
    pub types: Vec<&'static FileType>,
}

impl AttachmentRules {
    fn parse(place: &str, def: &AttachmentsDef, errors: &mut Vec<InvalidInput>) -> Option<Self> {
        let before = errors.len();
        if def.max_files == 0 || def.max_files > MAX_ATTACHMENT_FILES {
            errors.push(err(
                &format!("{place}.max_files"),
                "out_of_range",
                format_args!("must be between 1 and {MAX_ATTACHMENT_FILES}"),
            ));
        }
        if def.max_bytes == 0 || def.max_bytes > MAX_ATTACHMENT_BYTES {
            errors.push(err(
                &format!("{place}.max_bytes"),
                "out_of_range",
                format_args!("must be between 1 and {MAX_ATTACHMENT_BYTES} bytes"),
            ));
        }
        if def.types.is_empty() {
            errors.push(err(&format!("{place}.types"), "no_types", "name at least one allowed MIME type"));
        }
        let mut types: Vec<&'static FileType> = Vec::new();
        for (i, t) in def.types.iter().enumerate() {
            match FileType::of_mime(t.trim()) {
                Some(ft) if types.contains(&ft) => {
                    errors.push(err(&format!("{place}.types[{i}]"), "duplicate_type", format_args!("`{t}` twice")))
                }
                Some(ft) => types.push(ft),
                None => errors.push(err(
                    &format!("{place}.types[{i}]"),
                    "unknown_type",
                    format_args!(
                        "`{t}` is not a type the server recognises; one of {}",
                        FILE_TYPES.iter().map(|t| t.mime).collect::<Vec<_>>().join(", ")
                    ),
                )),
            }
        }
        (errors.len() == before).then(|| AttachmentRules {
            max_files: def.max_files as usize,
            max_bytes: usize::try_from(def.max_bytes).unwrap_or(usize::MAX),
            types,
        })
    }

    /// Whether files of `mime` are allowed.
    pub fn allows(&self, mime: &str) -> bool {
        self.types.iter().any(|t| t.mime == mime)
    }

    /// The allowed types for people: "PDF, PNG, JPEG o testo".
    pub fn labels(&self) -> String {
        let labels: Vec<&str> = self.types.iter().map(|t| t.label).collect();
        match labels.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} o {last}", rest.join(", ")),
            _ => labels.join(""),
        }
    }
}

/// A checked form.
#[derive(Debug, Clone, PartialEq)]
pub struct Form {
    pub id: FormId,
    pub purpose: Purpose,
    pub title: String,
    pub description: Option<String>,
    pub privacy: Option<Privacy>,
    pub links: Links,
    pub recipients: Vec<Role>,
    pub retention_days: u32,
    pub reply_to: Option<FieldName>,
    pub subject_from: Option<FieldName>,
    pub name_from: Option<FieldName>,
    /// The files a submission may carry; `None`: no files at all.
    pub attachments: Option<AttachmentRules>,
    /// The fields, as a content type so that the content validator checks submissions.
    model: ContentType,
    def: FormDef,
}

/// Longest retention a form may declare: ten years.
pub const MAX_RETENTION_DAYS: u32 = 3650;

/// Field kinds a public form may use: no references, media, rich text or raw JSON.
const FORM_KINDS: &[&str] =
    &["string", "text", "integer", "decimal", "boolean", "date", "enum", "email", "url", "tags"];

fn err(place: &str, code: &'static str, message: impl fmt::Display) -> InvalidInput {
    InvalidInput::new(code, format!("{place}: {message}"))
}

impl Form {
    /// Checks a definition; every problem is reported with where it is ("forms.contatti.fields[1].kind: …").
    pub fn parse(id: &str, def: &FormDef) -> Result<Form, Vec<InvalidInput>> {
        let place = format!("forms.{id}");
        let mut errors = Vec::new();
        let form_id = FormId::parse(id).map_err(|e| errors.push(err(&place, e.code, e.message))).ok();
        let purpose = match def.purpose.as_str() {
            "contact" => Some(Purpose::Contact),
            "interest" => Some(Purpose::Interest),
            "assistance" => Some(Purpose::Assistance),
            "feedback" => Some(Purpose::Feedback),
            other => {
                errors.push(err(
                    &format!("{place}.purpose"),
                    "invalid_purpose",
                    format_args!("`{other}` is not one of contact, interest, assistance, feedback"),
                ));
                None
            }
        };
        if def.title.trim().is_empty() {
            errors.push(err(&format!("{place}.title"), "empty_label", "must not be empty"));
        }
        if let Some(p) = &def.privacy
            && (p.version.trim().is_empty() || p.label.trim().is_empty())
        {
            errors.push(err(&format!("{place}.privacy"), "empty_label", "version and label must not be empty"));
        }
        let mut recipients = Vec::new();
        for (i, r) in def.recipients.iter().enumerate() {
            match Role::parse(r) {
                Ok(role @ (Role::Operator | Role::Editor | Role::Admin)) => recipients.push(role),
                _ => errors.push(err(
                    &format!("{place}.recipients[{i}]"),
                    "invalid_role",
                    "a recipient is one of operator, editor, admin",
                )),
            }
        }
        if def.retention_days == 0 || def.retention_days > MAX_RETENTION_DAYS {
            errors.push(err(
                &format!("{place}.retention_days"),
                "out_of_range",
                format_args!("must be between 1 and {MAX_RETENTION_DAYS}"),
            ));
        }
        if def.fields.is_empty() {
            errors.push(err(&format!("{place}.fields"), "no_fields", "a form has at least one field"));
        }
        let mut fields = Vec::with_capacity(def.fields.len());
        let mut seen = HashSet::new();
        for (i, fdef) in def.fields.iter().enumerate() {
            let fplace = format!("{place}.fields[{i}]");
            if !seen.insert(fdef.name.as_str()) {
                errors.push(err(&format!("{fplace}.name"), "duplicate_field", format_args!("`{}` twice", fdef.name)));
                continue;
            }
            if !FORM_KINDS.contains(&fdef.kind.as_str()) {
                errors.push(err(
                    &format!("{fplace}.kind"),
                    "unknown_kind",
                    format_args!("a form field is one of {}", FORM_KINDS.join(", ")),
                ));
                continue;
            }
            if fdef.unique {
                errors.push(err(&format!("{fplace}.unique"), "not_applicable", "form fields cannot be unique"));
                continue;
            }
            match Field::parse(fdef, &fplace) {
                Ok(field) => fields.push(field),
                Err(mut e) => errors.append(&mut e),
            }
        }
        let named = |key: &str, value: &Option<String>, kinds: &[&str], errors: &mut Vec<InvalidInput>| {
            let name = value.as_deref()?;
            match def.fields.iter().find(|f| f.name == name) {
                Some(f) if kinds.contains(&f.kind.as_str()) => FieldName::parse(name).ok(),
                _ => {
                    errors.push(err(
                        &format!("{place}.{key}"),
                        "unknown_field",
                        format_args!("must name a field of kind {}", kinds.join(" or ")),
                    ));
                    None
                }
            }
        };
        let reply_to = named("reply_to", &def.reply_to, &["email"], &mut errors);
        let subject_from = named("subject_from", &def.subject_from, &["string", "enum"], &mut errors);
        let name_from = named("name_from", &def.name_from, &["string"], &mut errors);
        let attachments = def
            .attachments
            .as_ref()
            .and_then(|a| AttachmentRules::parse(&format!("{place}.attachments"), a, &mut errors));
        let type_id = TypeId::parse(&id.replace('-', "_")).ok();
        let slug_from = FieldName::parse("title").ok();
        match (form_id, purpose, type_id, slug_from) {
            (Some(form_id), Some(purpose), Some(type_id), Some(slug_from)) if errors.is_empty() => Ok(Form {
                id: form_id,
                purpose,
                title: def.title.clone(),
                description: def.description.clone(),
                privacy: def.privacy.clone(),
                links: def.links,
                recipients,
                retention_days: def.retention_days,
                reply_to,
                subject_from,
                name_from,
                attachments,
                model: ContentType {
                    id: type_id,
                    singular: def.title.clone(),
                    plural: def.title.clone(),
                    description: None,
                    labels: BTreeMap::new(),
                    tree: false,
                    slug_from,
                    fields,
                },
                def: def.clone(),
            }),
            _ => {
                if errors.is_empty() {
                    errors.push(err(&place, "invalid_form_id", "not a valid form id"));
                }
                Err(errors)
            }
        }
    }

    /// The definition back, for storage: `Form::parse(id, &form.def())` yields an equal form.
    pub fn def(&self) -> &FormDef {
        &self.def
    }

    pub fn fields(&self) -> &[Field] {
        &self.model.fields
    }

    /// Whether a submission of this form opens a ticket.
    pub fn opens_ticket(&self) -> bool {
        self.purpose == Purpose::Assistance
    }

    /// Checks a submission's data with the content validator (every required field needed,
    /// defaults applied, unknown fields refused). Values are kept as sent (text stays text).
    pub fn validate(&self, data: &Map<String, Value>) -> Result<Map<String, Value>, Vec<DataError>> {
        validate_data(&self.model, data, Mode::Publish, true).map(|v| v.data)
    }

    /// Checks the consent against the privacy notice, when the form has one.
    pub fn check_consent(&self, accepted: bool, version: Option<&str>) -> Result<Option<String>, InvalidInput> {
        let Some(privacy) = &self.privacy else { return Ok(None) };
        if accepted && version == Some(privacy.version.as_str()) {
            Ok(Some(privacy.version.clone()))
        } else {
            Err(InvalidInput::new(
                "consent_required",
                format!("accept the privacy notice, version {}, to send this form", privacy.version),
            ))
        }
    }

    /// The text a ticket's thread starts with: the values of the form's `text` fields.
    pub fn message_of(&self, data: &Map<String, Value>) -> String {
        self.model
            .fields
            .iter()
            .filter(|f| f.kind == FieldKind::Text)
            .filter_map(|f| data.get(f.name.as_str()).and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n\n")
    }

    /// The value of a field as text, if it is a non-blank string.
    pub fn text_of<'a>(&self, data: &'a Map<String, Value>, field: Option<&FieldName>) -> Option<&'a str> {
        data.get(field?.as_str())?.as_str().map(str::trim).filter(|s| !s.is_empty())
    }
}

/// Every form of a file, checked.
pub fn parse_forms(defs: &BTreeMap<String, FormDef>) -> Result<Vec<Form>, Vec<InvalidInput>> {
    let mut errors = Vec::new();
    let mut forms = Vec::new();
    for (id, def) in defs {
        match Form::parse(id, def) {
            Ok(f) => forms.push(f),
            Err(mut e) => errors.append(&mut e),
        }
    }
    if errors.is_empty() { Ok(forms) } else { Err(errors) }
}

/// The kind of a form field as the public API names it (same names as content fields).
pub fn kind_name(kind: &FieldKind) -> &'static str {
    kind.name()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn form(toml_text: &str) -> Result<Form, Vec<InvalidInput>> {
        let def: FormDef = toml::from_str(toml_text).unwrap_or_else(|e| panic!("{e}"));
        Form::parse("contatti", &def)
    }

    const CONTACT: &str = r#"
purpose = "contact"
title = "Scrivici"
retention_days = 365
recipients = ["operator"]
reply_to = "email"
privacy = { version = "2026-01", label = "Ho letto l'informativa" }
[[fields]]
name = "email"
kind = "email"
label = "E-mail"
required = true
[[fields]]
name = "message"
kind = "text"
label = "Messaggio"
required = true
max = 2000
"#;

    #[test]
    fn a_form_validates_like_content() {
        let f = form(CONTACT).unwrap_or_else(|e| panic!("{e:?}"));
        let ok = json!({"email": "A@B.it", "message": "<script>alert(1)</script>"});
        let data = f.validate(ok.as_object().unwrap_or_else(|| panic!())).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(data["email"], "a@b.it");
        assert_eq!(data["message"], "<script>alert(1)</script>");
        let bad = json!({"email": "nope", "extra": 1});
        let errors = f.validate(bad.as_object().unwrap_or_else(|| panic!())).err().unwrap_or_default();
        let codes: Vec<_> = errors.iter().map(|e| (e.path.as_str(), e.code)).collect();
        assert_eq!(codes, vec![("email", "invalid_email"), ("message", "required"), ("extra", "unknown_field")]);
    }

    #[test]
    fn attachments_are_declared_by_type_and_size() {
        let f = form(&format!(
            "{CONTACT}\n[attachments]\nmax_files = 3\nmax_bytes = 5242880\ntypes = [\"application/pdf\", \"image/png\", \"text/plain\"]\n"
        ))
        .unwrap_or_else(|e| panic!("{e:?}"));
        let rules = f.attachments.clone().unwrap_or_else(|| panic!("rules"));
        assert_eq!((rules.max_files, rules.max_bytes), (3, 5 * 1024 * 1024));
        assert!(rules.allows("application/pdf") && !rules.allows("image/jpeg"));
        assert_eq!(rules.labels(), "PDF, PNG o testo");
        assert_eq!(FileType::of_name("Scan.PDF").map(|t| t.mime), Some("application/pdf"));
        assert_eq!(FileType::of_name("noext"), None);
        assert!(form(CONTACT).unwrap_or_else(|e| panic!("{e:?}")).attachments.is_none());
    }

    #[test]
    fn consent_names_the_notice_version() {
        let f = form(CONTACT).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(f.check_consent(true, Some("2026-01")).ok().flatten().as_deref(), Some("2026-01"));
        assert!(f.check_consent(true, Some("2025-01")).is_err());
        assert!(f.check_consent(false, Some("2026-01")).is_err());
    }

    #[test]
    fn bad_definitions_say_where() {
        let bad = CONTACT
            .replace("purpose = \"contact\"", "purpose = \"spam\"")
            .replace("[\"operator\"]", "[\"author\"]")
            .replace("kind = \"text\"", "kind = \"reference\"");
        let errors = form(&bad).err().unwrap_or_default();
        let codes: Vec<_> = errors.iter().map(|e| e.code).collect();
        assert_eq!(codes, vec!["invalid_purpose", "invalid_role", "unknown_kind"], "{errors:?}");
        assert!(FormId::parse("richiesta-assistenza").is_ok());
        let files = format!(
            "{CONTACT}\n[attachments]\nmax_files = 0\nmax_bytes = 0\ntypes = [\"application/x-msdownload\", \"image/png\", \"image/png\"]\n"
        );
        let errors = form(&files).err().unwrap_or_default();
        let codes: Vec<_> = errors.iter().map(|e| e.code).collect();
        assert_eq!(codes, vec!["out_of_range", "out_of_range", "unknown_type", "duplicate_type"], "{errors:?}");
        assert!(errors[0].message.starts_with("forms.contatti.attachments.max_files"), "{errors:?}");
        assert!(FormId::parse("Bad_id").is_err() && FormId::parse("a-").is_err());
    }
}
