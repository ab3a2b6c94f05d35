//! The GraphQL types of the requests fields, and the REST views as their values: the same
//! facts under camelCase names, states and priorities as enums (`OPEN`, `HIGH`).

use async_graphql::dynamic::{Enum, EnumItem, Object, SchemaBuilder, TypeRef};
use async_graphql::{Name, Value};
use cit_core::tickets::{Priority, TicketState};

use super::super::schema::{object, time, value_field};
use crate::routes::attachments::AttachmentView;
use crate::routes::forms::{AttachmentsView, FieldView, FormView};
use crate::routes::tickets::{AuditView, StaffMessage, SubmissionView, TicketView};

fn opt(v: Option<Value>) -> Value {
    v.unwrap_or(Value::Null)
}

fn text(s: &str) -> Value {
    Value::String(s.to_owned())
}

fn upper(raw: &str) -> Value {
    Value::Enum(Name::new(raw.to_ascii_uppercase()))
}

fn message_value(m: &StaffMessage) -> Value {
    object([
        ("id", Value::String(m.id.to_string())),
        ("author", text(&m.author)),
        ("authorName", text(&m.author_name)),
        ("authorUser", opt(m.author_user.map(|u| Value::String(u.to_string())))),
        ("body", text(&m.body)),
        ("internal", Value::Boolean(m.internal)),
        ("createdAt", time(m.created_at)),
    ])
}

fn attachment_value(a: &AttachmentView) -> Value {
    object([
        ("id", Value::String(a.id.to_string())),
        ("name", text(&a.name)),
        ("contentType", text(&a.content_type)),
        ("size", Value::from(a.size)),
        ("sha256", text(&a.sha256)),
        ("createdAt", time(a.created_at)),
    ])
}

fn attachments_value(list: Option<&Vec<AttachmentView>>) -> Value {
    opt(list.map(|l| Value::List(l.iter().map(attachment_value).collect())))
}

fn audit_value(a: &AuditView) -> Value {
    object([
        ("actor", text(&a.actor)),
        ("action", text(&a.action)),
        ("details", Value::from_json(a.details.clone()).unwrap_or(Value::Null)),
        ("at", time(a.at)),
    ])
}

pub(super) fn ticket_value(t: &TicketView) -> Value {
    object([
        ("number", Value::from(t.number)),
        ("subject", text(&t.subject)),
        ("state", upper(&t.state)),
        ("priority", upper(&t.priority)),
        ("category", opt(t.category.as_deref().map(text))),
        ("ente", opt(t.ente.as_deref().map(text))),
        ("assignee", opt(t.assignee.map(|u| Value::String(u.to_string())))),
        (
            "requester",
            object([("name", text(&t.requester.name)), ("email", opt(t.requester.email.as_deref().map(text)))]),
        ),
        ("submission", Value::String(t.submission.to_string())),
        ("firstResponseDue", time(t.first_response_due)),
        ("resolutionDue", time(t.resolution_due)),
        ("firstResponseAt", opt(t.first_response_at.map(time))),
        ("resolvedAt", opt(t.resolved_at.map(time))),
        ("closedAt", opt(t.closed_at.map(time))),
        ("overdue", Value::Boolean(t.overdue)),
        ("createdAt", time(t.created_at)),
        ("updatedAt", time(t.updated_at)),
        ("messages", opt(t.messages.as_ref().map(|ms| Value::List(ms.iter().map(message_value).collect())))),
        ("audit", opt(t.audit.as_ref().map(|a| Value::List(a.iter().map(audit_value).collect())))),
        ("attachments", attachments_value(t.attachments.as_ref())),
    ])
}

pub(super) fn submission_value(s: &SubmissionView) -> Value {
    object([
        ("id", Value::String(s.id.to_string())),
        ("form", text(&s.form)),
        ("formVersion", Value::from(s.form_version)),
        ("data", Value::from_json(serde_json::Value::Object(s.data.clone())).unwrap_or(Value::Null)),
        ("consentVersion", opt(s.consent_version.as_deref().map(text))),
        ("servizio", opt(s.servizio.as_deref().map(text))),
        ("ente", opt(s.ente.as_deref().map(text))),
        ("page", opt(s.page.as_deref().map(text))),
        ("ticket", opt(s.ticket.map(Value::from))),
        ("createdAt", time(s.created_at)),
        ("anonymisedAt", opt(s.anonymised_at.map(time))),
        ("attachments", attachments_value(s.attachments.as_ref())),
    ])
}

fn field_value(f: &FieldView) -> Value {
    let num = |n: Option<f64>| opt(n.map(Value::from));
    object([
        ("name", text(&f.name)),
        ("kind", text(&f.kind)),
        ("label", text(&f.label)),
        ("help", opt(f.help.as_deref().map(text))),
        ("required", Value::Boolean(f.required)),
        ("values", opt(f.values.as_ref().map(|vs| Value::List(vs.iter().map(|v| text(v)).collect())))),
        ("many", Value::Boolean(f.many)),
        ("min", num(f.min)),
        ("max", num(f.max)),
        ("minLength", num(f.min_length)),
        ("maxLength", num(f.max_length)),
    ])
}

fn form_attachments_value(a: &AttachmentsView) -> Value {
    object([
        ("maxFiles", Value::from(a.max_files as u64)),
        ("maxBytes", Value::from(a.max_bytes as u64)),
        ("types", Value::List(a.types.iter().map(|t| text(t)).collect())),
        ("typesLabel", text(&a.types_label)),
    ])
}

pub(super) fn form_value(f: &FormView) -> Value {
    object([
        ("id", text(&f.id)),
        ("purpose", text(&f.purpose)),
        ("title", text(&f.title)),
        ("description", opt(f.description.as_deref().map(text))),
        ("fields", Value::List(f.fields.iter().map(field_value).collect())),
        (
            "privacy",
            opt(f.privacy.as_ref().map(|p| {
                object([
                    ("version", text(&p.version)),
                    ("label", text(&p.label)),
                    ("url", opt(p.url.as_deref().map(text))),
                ])
            })),
        ),
        ("links", object([("servizio", Value::Boolean(f.links.servizio)), ("ente", Value::Boolean(f.links.ente))])),
        ("attachments", opt(f.attachments.as_ref().map(form_attachments_value))),
    ])
}

/// A page as a connection: `nodes`, and `pageInfo` whose `endCursor` is REST's `next_cursor`
/// when there is a next page (else the last node's, null on an empty page).
pub(super) fn connection(nodes: Vec<Value>, next: Option<String>, last: Option<String>) -> Value {
    let more = next.is_some();
    object([
        ("nodes", Value::List(nodes)),
        (
            "pageInfo",
            object([("hasNextPage", Value::Boolean(more)), ("endCursor", opt(next.or(last).map(Value::String)))]),
        ),
    ])
}

fn enum_of(name: &str, description: &str, values: impl IntoIterator<Item = &'static str>) -> Enum {
    values.into_iter().fold(Enum::new(name).description(description), |e, v| {
        e.item(EnumItem::new(v.to_ascii_uppercase()).description(format!("`{v}`")))
    })
}

fn fields(name: &str, description: &str, list: Vec<(&'static str, TypeRef)>) -> Object {
    list.into_iter().fold(Object::new(name).description(description), |o, (f, ty)| o.field(value_field(f, ty)))
}

/// Registers the types of the root fields.
pub(crate) fn register(b: SchemaBuilder) -> SchemaBuilder {
    let s = || TypeRef::named(TypeRef::STRING);
    let s_nn = || TypeRef::named_nn(TypeRef::STRING);
    let t_nn = || TypeRef::named_nn("DateTime");
    let b = b
        .register(enum_of(
            "TicketState",
            "Where a ticket is: new → open → waiting → resolved → closed.",
            TicketState::ALL.map(TicketState::as_str),
        ))
        .register(enum_of(
            "TicketPriority",
            "How urgent a ticket is; it sets the due dates.",
            Priority::ALL.map(Priority::as_str),
        ))
        .register(fields(
            "Attachment",
            "A file sent with a submission: listed on one ticket or submission only; the bytes are at REST's `GET …/submissions/{id}/attachments/{attachment}`.",
            vec![
                ("id", TypeRef::named_nn(TypeRef::ID)),
                ("name", s_nn()),
                ("contentType", s_nn()),
                ("size", TypeRef::named_nn(TypeRef::INT)),
                ("sha256", s_nn()),
                ("createdAt", t_nn()),
            ],
        ))
        .register(fields(
            "FormAttachments",
            "The files a submission of a form may carry.",
            vec![
                ("maxFiles", TypeRef::named_nn(TypeRef::INT)),
                ("maxBytes", TypeRef::named_nn(TypeRef::INT)),
                ("types", TypeRef::named_nn_list_nn(TypeRef::STRING)),
                ("typesLabel", s_nn()),
            ],
        ))
        .register(fields("TicketRequester", "Who asked.", vec![("name", s_nn()), ("email", s())]))
        .register(fields(
            "TicketMessage",
            "A message of a ticket's thread.",
            vec![
                ("id", TypeRef::named_nn(TypeRef::ID)),
                ("author", s_nn()),
                ("authorName", s_nn()),
                ("authorUser", TypeRef::named(TypeRef::ID)),
                ("body", s_nn()),
                ("internal", TypeRef::named_nn(TypeRef::BOOLEAN)),
                ("createdAt", t_nn()),
            ],
        ))
        .register(fields(
            "TicketAudit",
            "A change to a ticket.",
            vec![("actor", s_nn()), ("action", s_nn()), ("details", TypeRef::named_nn("JSON")), ("at", t_nn())],
        ))
        .register(fields(
            "Ticket",
            "An assistance ticket, as `GET …/tickets/{number}` answers it.",
            vec![
                ("number", TypeRef::named_nn(TypeRef::INT)),
                ("subject", s_nn()),
                ("state", TypeRef::named_nn("TicketState")),
                ("priority", TypeRef::named_nn("TicketPriority")),
                ("category", s()),
                ("ente", s()),
                ("assignee", TypeRef::named(TypeRef::ID)),
                ("requester", TypeRef::named_nn("TicketRequester")),
                ("submission", TypeRef::named_nn(TypeRef::ID)),
                ("firstResponseDue", t_nn()),
                ("resolutionDue", t_nn()),
                ("firstResponseAt", TypeRef::named("DateTime")),
                ("resolvedAt", TypeRef::named("DateTime")),
                ("closedAt", TypeRef::named("DateTime")),
                ("overdue", TypeRef::named_nn(TypeRef::BOOLEAN)),
                ("createdAt", t_nn()),
                ("updatedAt", t_nn()),
                ("messages", TypeRef::named_nn_list("TicketMessage")),
                ("audit", TypeRef::named_nn_list("TicketAudit")),
                ("attachments", TypeRef::named_nn_list("Attachment")),
            ],
        ))
        .register(fields(
            "TicketConnection",
            "A page of tickets.",
            vec![("nodes", TypeRef::named_nn_list_nn("Ticket")), ("pageInfo", TypeRef::named_nn("PageInfo"))],
        ))
        .register(fields(
            "Submission",
            "What was sent through a form.",
            vec![
                ("id", TypeRef::named_nn(TypeRef::ID)),
                ("form", s_nn()),
                ("formVersion", TypeRef::named_nn(TypeRef::INT)),
                ("data", TypeRef::named_nn("JSON")),
                ("consentVersion", s()),
                ("servizio", s()),
                ("ente", s()),
                ("page", s()),
                ("ticket", TypeRef::named(TypeRef::INT)),
                ("createdAt", t_nn()),
                ("anonymisedAt", TypeRef::named("DateTime")),
                ("attachments", TypeRef::named_nn_list("Attachment")),
            ],
        ))
        .register(fields(
            "SubmissionConnection",
            "A page of submissions.",
            vec![("nodes", TypeRef::named_nn_list_nn("Submission")), ("pageInfo", TypeRef::named_nn("PageInfo"))],
        ))
        .register(fields(
            "FormField",
            "A field of a form.",
            vec![
                ("name", s_nn()),
                ("kind", s_nn()),
                ("label", s_nn()),
                ("help", s()),
                ("required", TypeRef::named_nn(TypeRef::BOOLEAN)),
                ("values", TypeRef::named_nn_list(TypeRef::STRING)),
                ("many", TypeRef::named_nn(TypeRef::BOOLEAN)),
                ("min", TypeRef::named(TypeRef::FLOAT)),
                ("max", TypeRef::named(TypeRef::FLOAT)),
                ("minLength", TypeRef::named(TypeRef::FLOAT)),
                ("maxLength", TypeRef::named(TypeRef::FLOAT)),
            ],
        ))
        .register(fields(
            "FormPrivacy",
            "The privacy notice a submission accepts.",
            vec![("version", s_nn()), ("label", s_nn()), ("url", s())],
        ))
        .register(fields(
            "FormLinks",
            "What a submission may name.",
            vec![("servizio", TypeRef::named_nn(TypeRef::BOOLEAN)), ("ente", TypeRef::named_nn(TypeRef::BOOLEAN))],
        ));
    b.register(fields(
        "Form",
        "A form of the tenant, as `GET …/forms` lists it.",
        vec![
            ("id", TypeRef::named_nn(TypeRef::ID)),
            ("purpose", s_nn()),
            ("title", s_nn()),
            ("description", s()),
            ("fields", TypeRef::named_nn_list_nn("FormField")),
            ("privacy", TypeRef::named("FormPrivacy")),
            ("links", TypeRef::named_nn("FormLinks")),
            ("attachments", TypeRef::named("FormAttachments")),
        ],
    ))
}
