//! Who may do what. Every permission decision in cit goes through [`authorize`] (for things inside
//! one tenant) or [`authorize_platform`] (for things above tenants). Both hand back a capability
//! that the store asks for before it touches rows, so a handler cannot skip the check.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{AccessDenied, InvalidInput};
use crate::types::{ApiTokenId, TenantId, UserId};

/// A person's role in one tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Answers requests from the territory (submissions, tickets); no content rights.
    Operator,
    /// Reads the reserved area.
    Member,
    /// Writes drafts; cannot publish.
    Author,
    /// Writes and publishes content.
    Editor,
    /// Everything in the tenant: people, tokens, settings, audit log.
    Admin,
}

impl Role {
    pub const ALL: [Role; 5] = [Role::Admin, Role::Editor, Role::Author, Role::Member, Role::Operator];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Editor => "editor",
            Role::Author => "author",
            Role::Member => "member",
            Role::Operator => "operator",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        Self::ALL.into_iter().find(|r| r.as_str() == raw).ok_or_else(|| {
            InvalidInput::new("invalid_role", "a role is one of admin, editor, author, member, operator")
        })
    }
}

/// What an API token may do. Tokens never manage people, tokens or settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Read published content.
    Read,
    /// Read drafts and scheduled content too (frontend previews).
    Preview,
    /// Create, change and publish content.
    Write,
}

impl Scope {
    pub const ALL: [Scope; 3] = [Scope::Read, Scope::Preview, Scope::Write];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Preview => "preview",
            Scope::Write => "write",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| InvalidInput::new("invalid_scope", "a scope is one of read, preview, write"))
    }
}

/// A non-empty set of scopes, kept sorted and without repeats.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scopes(Vec<Scope>);

impl Scopes {
    pub fn new(scopes: impl IntoIterator<Item = Scope>) -> Result<Self, InvalidInput> {
        let mut v: Vec<Scope> = scopes.into_iter().collect();
        v.sort();
        v.dedup();
        if v.is_empty() {
            return Err(InvalidInput::new("empty_scopes", "give at least one scope: read, preview or write"));
        }
        Ok(Self(v))
    }

    /// Parses a comma- or space-separated list: `read,preview`.
    pub fn parse_list(raw: &str) -> Result<Self, InvalidInput> {
        let parsed =
            raw.split([',', ' ']).filter(|s| !s.is_empty()).map(Scope::parse).collect::<Result<Vec<_>, _>>()?;
        Self::new(parsed)
    }

    pub fn contains(&self, scope: Scope) -> bool {
        self.0.contains(&scope)
    }

    pub fn iter(&self) -> impl Iterator<Item = Scope> + '_ {
        self.0.iter().copied()
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.0.iter().map(|s| s.as_str()).collect();
        f.write_str(&names.join(","))
    }
}

/// Who is asking, as established by authentication. For a user, `role` is their role in the
/// tenant the request is about (if any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    Anonymous,
    User {
        id: UserId,
        platform_admin: bool,
        role: Option<Role>,
    },
    Token {
        id: ApiTokenId,
        tenant: TenantId,
        scopes: Scopes,
    },
    /// The operator at the command line (`cit tenant`, `cit schema apply`, seeding, imports):
    /// provisions tenants and users and writes content in any tenant, but reads no requests
    /// from the public and is granted none of the server's own work.
    Console,
    /// The server itself, for its own jobs (scheduler, outbox, retention, start-up indexing,
    /// authentication): minted in `cit-api` only.
    System,
}

impl Actor {
    /// A short, stable description for the audit log: `user:<uuid>`, `token:<uuid>`, `console`,
    /// `system`.
    pub fn audit_name(&self) -> String {
        match self {
            Actor::Anonymous => "anonymous".into(),
            Actor::User { id, .. } => format!("user:{id}"),
            Actor::Token { id, .. } => format!("token:{id}"),
            Actor::Console => "console".into(),
            Actor::System => "system".into(),
        }
    }
}

/// Things done inside one tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Read the tenant's public profile and published content.
    ReadPublished,
    /// Read content meant for members (the reserved area).
    ReadReserved,
    /// Read drafts, scheduled and archived content.
    ReadDrafts,
    /// Create and change drafts.
    WriteContent,
    /// Publish, unpublish, schedule and delete content.
    PublishContent,
    ManageMembers,
    ManageTokens,
    ViewAudit,
    /// Change the tenant's content types.
    ManageSchema,
    /// Read the tenant's forms and send a submission, follow a ticket by its secret: anybody.
    SubmitRequest,
    /// Read submissions and tickets (operators, editors, admins).
    ReadRequests,
    /// Answer and change tickets (operators, editors, admins).
    AnswerRequests,
    /// Subscribe targets to the tenant's events, see and redeliver their deliveries (admins).
    ManageWebhooks,
}

/// What the permission check needs to know about the tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TenantFacts<'a> {
    pub id: &'a TenantId,
    pub disabled: bool,
    /// Published content is readable without a token (the default).
    pub public_read: bool,
}

/// Proof that an actor may do an action in one tenant. Only [`authorize`] makes one; the store
/// asks for it before it touches the tenant's rows, and scopes every query by `tenant()`.
#[derive(Debug, Clone)]
pub struct TenantAccess {
    tenant: TenantId,
    action: Action,
    actor: String,
}

impl TenantAccess {
    pub fn tenant(&self) -> &TenantId {
        &self.tenant
    }
    pub fn action(&self) -> Action {
        self.action
    }
    /// The actor, as written to the audit log.
    pub fn actor(&self) -> &str {
        &self.actor
    }
}

/// The one place that decides whether `actor` may do `action` in `tenant`.
pub fn authorize(actor: &Actor, tenant: TenantFacts<'_>, action: Action) -> Result<TenantAccess, AccessDenied> {
    let allowed = match actor {
        Actor::System => true,
        Actor::User { platform_admin: true, .. } => true,
        // The console manages and fills tenants (disabled ones too); what the public sent in is
        // for the tenant's staff only.
        Actor::Console => !matches!(action, Action::ReadRequests | Action::AnswerRequests),
        _ if tenant.disabled => return Err(AccessDenied::TenantDisabled),
        _ if action == Action::SubmitRequest => true,
        Actor::Anonymous => {
            return if action == Action::ReadPublished && tenant.public_read {
                Ok(grant(actor, tenant.id, action))
            } else {
                Err(AccessDenied::Unauthenticated)
            };
        }
        Actor::Token { tenant: own, scopes, .. } => {
            own == tenant.id
                && match action {
                    Action::ReadPublished => true,
                    Action::ReadDrafts => scopes.contains(Scope::Preview) || scopes.contains(Scope::Write),
                    Action::WriteContent | Action::PublishContent => scopes.contains(Scope::Write),
                    Action::ReadReserved
                    | Action::ManageMembers
                    | Action::ManageTokens
                    | Action::ViewAudit
                    | Action::ManageSchema
                    | Action::SubmitRequest
                    | Action::ReadRequests
                    | Action::AnswerRequests
                    | Action::ManageWebhooks => false,
                }
        }
        Actor::User { role: None, .. } => action == Action::ReadPublished && tenant.public_read,
        Actor::User { role: Some(role), .. } => match action {
            Action::ReadPublished | Action::ReadReserved => true,
            Action::ReadDrafts | Action::WriteContent => *role >= Role::Author,
            Action::PublishContent => *role >= Role::Editor,
            Action::ManageMembers
            | Action::ManageTokens
            | Action::ViewAudit
            | Action::ManageSchema
            | Action::ManageWebhooks => *role == Role::Admin,
            Action::SubmitRequest => true,
            Action::ReadRequests | Action::AnswerRequests => {
                matches!(role, Role::Operator | Role::Editor | Role::Admin)
            }
        },
    };
    if allowed { Ok(grant(actor, tenant.id, action)) } else { Err(AccessDenied::Forbidden) }
}

fn grant(actor: &Actor, tenant: &TenantId, action: Action) -> TenantAccess {
    TenantAccess { tenant: tenant.clone(), action, actor: actor.audit_name() }
}

/// Things done above tenants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlatformAction {
    /// Create, change, disable and list all tenants.
    ManageTenants,
    /// Create users and reset their passwords.
    ManageUsers,
    /// Publish and unpublish scheduled entries in every tenant: the server itself only.
    RunScheduler,
    /// Send the e-mails waiting in every tenant's outbox: the server itself only.
    SendMail,
    /// Anonymise submissions past their form's retention, in every tenant: the server itself only.
    ApplyRetention,
    /// Find out who a caller is before any permission check: an API token by its hash, a
    /// user's memberships and roles. The server itself only.
    Authenticate,
    /// Index the entries of every tenant that have no search document (at start-up): the
    /// server itself only.
    IndexSearch,
    /// Deliver the webhook events waiting in every tenant's outbox: the server itself only.
    DeliverWebhooks,
    /// Export a tenant whole (every table, its members' users) and import one as a new tenant.
    MoveTenants,
}

impl PlatformAction {
    /// Whether only the server itself ([`Actor::System`]) may be granted the action.
    pub fn system_only(self) -> bool {
        matches!(
            self,
            PlatformAction::RunScheduler
                | PlatformAction::Authenticate
                | PlatformAction::IndexSearch
                | PlatformAction::SendMail
                | PlatformAction::ApplyRetention
                | PlatformAction::DeliverWebhooks
        )
    }
}

/// Proof that an actor may do a platform action. Only [`authorize_platform`] makes one.
#[derive(Debug, Clone)]
pub struct PlatformAccess {
    action: PlatformAction,
    actor: String,
}

impl PlatformAccess {
    pub fn action(&self) -> PlatformAction {
        self.action
    }
    pub fn actor(&self) -> &str {
        &self.actor
    }
}

pub fn authorize_platform(actor: &Actor, action: PlatformAction) -> Result<PlatformAccess, AccessDenied> {
    match actor {
        Actor::System => Ok(PlatformAccess { action, actor: actor.audit_name() }),
        _ if action.system_only() => Err(AccessDenied::Forbidden),
        Actor::User { platform_admin: true, .. } | Actor::Console => {
            Ok(PlatformAccess { action, actor: actor.audit_name() })
        }
        Actor::Anonymous => Err(AccessDenied::Unauthenticated),
        Actor::User { .. } | Actor::Token { .. } => Err(AccessDenied::Forbidden),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lecce() -> TenantId {
        TenantId::parse("lecce").unwrap_or_else(|e| panic!("{e}"))
    }
    fn genova() -> TenantId {
        TenantId::parse("genova").unwrap_or_else(|e| panic!("{e}"))
    }
    fn facts(id: &TenantId) -> TenantFacts<'_> {
        TenantFacts { id, disabled: false, public_read: true }
    }
    fn user(role: Option<Role>) -> Actor {
        Actor::User { id: UserId::new(), platform_admin: false, role }
    }
    fn token(tenant: TenantId, scopes: &[Scope]) -> Actor {
        Actor::Token {
            id: ApiTokenId::new(),
            tenant,
            scopes: Scopes::new(scopes.iter().copied()).unwrap_or_else(|e| panic!("{e}")),
        }
    }

    #[test]
    fn roles_grow_in_power() {
        let t = lecce();
        let matrix = [
            (Action::ReadPublished, [true, true, true, true]),
            (Action::ReadReserved, [true, true, true, true]),
            (Action::ReadDrafts, [false, true, true, true]),
            (Action::WriteContent, [false, true, true, true]),
            (Action::PublishContent, [false, false, true, true]),
            (Action::ManageMembers, [false, false, false, true]),
            (Action::ManageTokens, [false, false, false, true]),
            (Action::ViewAudit, [false, false, false, true]),
            (Action::ManageSchema, [false, false, false, true]),
            (Action::ManageWebhooks, [false, false, false, true]),
        ];
        for (action, expected) in matrix {
            for (role, ok) in [Role::Member, Role::Author, Role::Editor, Role::Admin].into_iter().zip(expected) {
                assert_eq!(authorize(&user(Some(role)), facts(&t), action).is_ok(), ok, "{role} {action:?}");
            }
        }
    }

    #[test]
    fn operators_answer_requests_and_touch_no_content() {
        let t = lecce();
        let op = user(Some(Role::Operator));
        for action in [Action::ReadRequests, Action::AnswerRequests, Action::SubmitRequest] {
            assert!(authorize(&op, facts(&t), action).is_ok(), "{action:?}");
        }
        for action in [Action::ReadDrafts, Action::WriteContent, Action::PublishContent, Action::ManageSchema] {
            assert_eq!(authorize(&op, facts(&t), action).err(), Some(AccessDenied::Forbidden), "{action:?}");
        }
        for role in [Role::Member, Role::Author] {
            assert!(authorize(&user(Some(role)), facts(&t), Action::ReadRequests).is_err());
        }
        assert!(authorize(&user(Some(Role::Editor)), facts(&t), Action::AnswerRequests).is_ok());
        assert!(authorize(&token(lecce(), &[Scope::Write]), facts(&t), Action::ReadRequests).is_err());
        let private = TenantFacts { public_read: false, ..facts(&t) };
        assert!(authorize(&Actor::Anonymous, private, Action::SubmitRequest).is_ok());
        assert!(authorize(&Actor::Anonymous, facts(&t), Action::ReadRequests).is_err());
        let off = TenantFacts { disabled: true, ..facts(&t) };
        assert!(authorize(&Actor::Anonymous, off, Action::SubmitRequest).is_err());
    }

    #[test]
    fn outsiders_only_read_what_is_public() {
        let t = lecce();
        assert!(authorize(&user(None), facts(&t), Action::ReadPublished).is_ok());
        assert_eq!(authorize(&user(None), facts(&t), Action::ReadDrafts).err(), Some(AccessDenied::Forbidden));
        assert!(authorize(&Actor::Anonymous, facts(&t), Action::ReadPublished).is_ok());
        assert_eq!(
            authorize(&Actor::Anonymous, facts(&t), Action::ReadDrafts).err(),
            Some(AccessDenied::Unauthenticated)
        );
        let private = TenantFacts { public_read: false, ..facts(&t) };
        assert_eq!(
            authorize(&Actor::Anonymous, private, Action::ReadPublished).err(),
            Some(AccessDenied::Unauthenticated)
        );
        assert!(authorize(&user(None), private, Action::ReadPublished).is_err());
    }

    #[test]
    fn token_scopes_are_enforced() {
        let t = lecce();
        let read = token(lecce(), &[Scope::Read]);
        let preview = token(lecce(), &[Scope::Preview]);
        let write = token(lecce(), &[Scope::Write]);
        assert!(authorize(&read, facts(&t), Action::ReadPublished).is_ok());
        assert!(authorize(&read, facts(&t), Action::ReadDrafts).is_err());
        assert!(authorize(&preview, facts(&t), Action::ReadDrafts).is_ok());
        assert!(authorize(&preview, facts(&t), Action::WriteContent).is_err());
        assert!(authorize(&write, facts(&t), Action::WriteContent).is_ok());
        assert!(authorize(&write, facts(&t), Action::PublishContent).is_ok());
        for tok in [&read, &preview, &write] {
            assert!(authorize(tok, facts(&t), Action::ManageTokens).is_err());
            assert!(authorize(tok, facts(&t), Action::ManageMembers).is_err());
        }
        let g = genova();
        let private_genova = TenantFacts { public_read: false, ..facts(&g) };
        assert_eq!(authorize(&write, private_genova, Action::ReadPublished).err(), Some(AccessDenied::Forbidden));
        assert!(authorize(&write, facts(&g), Action::WriteContent).is_err());
    }

    #[test]
    fn disabled_tenants_answer_only_platform_admins() {
        let t = lecce();
        let off = TenantFacts { disabled: true, ..facts(&t) };
        assert_eq!(
            authorize(&user(Some(Role::Admin)), off, Action::ReadPublished).err(),
            Some(AccessDenied::TenantDisabled)
        );
        assert_eq!(authorize(&Actor::Anonymous, off, Action::ReadPublished).err(), Some(AccessDenied::TenantDisabled));
        let root = Actor::User { id: UserId::new(), platform_admin: true, role: None };
        assert!(authorize(&root, off, Action::ManageMembers).is_ok());
    }

    #[test]
    fn platform_actions_need_a_platform_admin() {
        assert!(authorize_platform(&user(Some(Role::Admin)), PlatformAction::ManageTenants).is_err());
        assert!(authorize_platform(&token(lecce(), &[Scope::Write]), PlatformAction::ManageTenants).is_err());
        assert!(authorize_platform(&Actor::System, PlatformAction::ManageTenants).is_ok());
        let root = Actor::User { id: UserId::new(), platform_admin: true, role: None };
        assert_eq!(
            authorize_platform(&root, PlatformAction::ManageUsers).map(|a| a.action()).ok(),
            Some(PlatformAction::ManageUsers)
        );
    }

    #[test]
    fn scopes_parse() {
        assert_eq!(Scopes::parse_list("write, read,read").map(|s| s.to_string()).ok(), Some("read,write".into()));
        assert!(Scopes::parse_list("").is_err());
        assert!(Scopes::parse_list("read,admin").is_err());
    }

    #[test]
    fn the_servers_own_platform_work_is_granted_to_the_system_only() {
        let admin = Actor::User { id: UserId::new(), platform_admin: true, role: None };
        for action in [PlatformAction::RunScheduler, PlatformAction::Authenticate, PlatformAction::IndexSearch] {
            assert!(action.system_only());
            assert_eq!(authorize_platform(&Actor::System, action).map(|a| a.action()).ok(), Some(action));
            assert_eq!(authorize_platform(&admin, action).err(), Some(AccessDenied::Forbidden));
            assert_eq!(authorize_platform(&Actor::Anonymous, action).err(), Some(AccessDenied::Forbidden));
        }
        assert!(authorize_platform(&admin, PlatformAction::ManageUsers).is_ok());
    }

    #[test]
    fn the_console_provisions_and_writes_but_does_none_of_the_servers_work() {
        let all_platform = [
            PlatformAction::ManageTenants,
            PlatformAction::ManageUsers,
            PlatformAction::RunScheduler,
            PlatformAction::SendMail,
            PlatformAction::ApplyRetention,
            PlatformAction::Authenticate,
            PlatformAction::IndexSearch,
            PlatformAction::DeliverWebhooks,
            PlatformAction::MoveTenants,
        ];
        for action in all_platform {
            let console = authorize_platform(&Actor::Console, action);
            if action.system_only() {
                assert_eq!(console.err(), Some(AccessDenied::Forbidden), "{action:?}");
                assert!(authorize_platform(&Actor::System, action).is_ok(), "{action:?}");
            } else {
                assert_eq!(console.map(|a| a.actor().to_owned()).ok().as_deref(), Some("console"), "{action:?}");
            }
        }
        let t = lecce();
        let off = TenantFacts { disabled: true, ..facts(&t) };
        for action in [Action::WriteContent, Action::PublishContent, Action::ManageSchema, Action::ManageTokens] {
            let granted = authorize(&Actor::Console, off, action);
            assert_eq!(granted.map(|a| a.actor().to_owned()).ok().as_deref(), Some("console"), "{action:?}");
        }
        for action in [Action::ReadRequests, Action::AnswerRequests] {
            assert_eq!(authorize(&Actor::Console, facts(&t), action).err(), Some(AccessDenied::Forbidden));
            assert!(authorize(&Actor::System, facts(&t), action).is_ok(), "{action:?}");
        }
    }
}
