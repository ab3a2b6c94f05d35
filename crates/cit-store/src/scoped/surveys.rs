//! Surveys: definitions, the member bodies' invitations and the answers. An answer through an
//! invitation is a draft until it is sent, and there is at most one per invitation (a unique
//! index), so two tabs saving at once cannot make two and a sent answer is never changed.

use chrono::{DateTime, Utc};
use cit_core::Action;
use cit_core::surveys::{Answers, Survey, SurveyDef, SurveySlug};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, PaginatorTrait, QueryFilter, QueryOrder, TransactionTrait,
};

use super::requests::{OutMail, enqueue};
use crate::entity::{survey, survey_invitation, survey_response};
use crate::{StoreError, StoreResult, TenantStore};

/// A stored survey.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSurvey {
    pub id: uuid::Uuid,
    pub survey: Survey,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A member body's invitation to a survey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub id: uuid::Uuid,
    pub survey: uuid::Uuid,
    /// The `ente` entry.
    pub ente: uuid::Uuid,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseStatus {
    Draft,
    Sent,
}

impl ResponseStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Sent => "sent",
        }
    }

    fn parse(raw: &str) -> StoreResult<Self> {
        match raw {
            "draft" => Ok(Self::Draft),
            "sent" => Ok(Self::Sent),
            other => Err(StoreError::Corrupt(format!("survey response status '{other}'"))),
        }
    }
}

/// An answer, draft or sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    pub id: uuid::Uuid,
    pub invitation: Option<uuid::Uuid>,
    pub answers: Answers,
    pub status: ResponseStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// An invitation to write: the id is chosen by the caller, who derives the link's secret from
/// it and sends its hash.
#[derive(Debug, Clone)]
pub struct NewInvitation {
    pub id: uuid::Uuid,
    pub ente: uuid::Uuid,
    pub secret_hash: String,
    /// The e-mail with the link, when the body has an address.
    pub mail: Option<OutMail>,
}

fn stored_of(m: survey::Model) -> StoreResult<StoredSurvey> {
    let corrupt = |what: String| StoreError::Corrupt(format!("survey {}: {what}", m.slug));
    let def: SurveyDef = serde_json::from_str(&m.definition).map_err(|e| corrupt(e.to_string()))?;
    let slug = SurveySlug::parse(&m.slug).map_err(|e| corrupt(e.message))?;
    let survey = Survey::parse(slug, def)
        .map_err(|errors| corrupt(errors.into_iter().map(|e| e.message).collect::<Vec<_>>().join("; ")))?;
    Ok(StoredSurvey { id: m.id, survey, created_at: m.created_at, updated_at: m.updated_at })
}

fn invitation_of(m: survey_invitation::Model) -> Invitation {
    Invitation { id: m.id, survey: m.survey_id, ente: m.ente_id, created_at: m.created_at }
}

fn response_of(m: survey_response::Model) -> StoreResult<Response> {
    let answers = match serde_json::from_str(&m.answers) {
        Ok(serde_json::Value::Object(a)) => a,
        _ => return Err(StoreError::Corrupt(format!("survey response {}: answers", m.id))),
    };
    Ok(Response {
        id: m.id,
        invitation: m.invitation_id,
        answers,
        status: ResponseStatus::parse(&m.status)?,
        created_at: m.created_at,
        updated_at: m.updated_at,
        sent_at: m.sent_at,
    })
}

fn already_sent() -> StoreError {
    StoreError::Rule {
        code: "already_answered",
        message: "this invitation's answers were sent: they can no longer change".into(),
    }
}

impl TenantStore<'_> {
    /// Creates or changes a survey (editors and admins). Once anybody has answered, the
    /// questions (names, kinds, options, rows) and the audience stay as they are: 409
    /// `survey_answered`; titles, texts, dates and the results' visibility may still change.
    pub async fn put_survey(&self, survey: &Survey, at: DateTime<Utc>) -> StoreResult<(StoredSurvey, bool)> {
        self.require(Action::PublishContent)?;
        let definition = serde_json::to_string(survey.def()).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let slug = survey.slug().as_str();
        let txn = self.store().write.begin().await?;
        let existing = self.select::<survey::Entity>().filter(survey::Column::Slug.eq(slug)).one(&txn).await?;
        let (row, created) = match existing {
            Some(row) => {
                let before = stored_of(row.clone())?;
                if !before.survey.same_questions(survey) {
                    let answered = self
                        .select::<survey_response::Entity>()
                        .filter(survey_response::Column::SurveyId.eq(row.id))
                        .count(&txn)
                        .await?;
                    if answered > 0 {
                        return Err(StoreError::Rule {
                            code: "survey_answered",
                            message: format!(
                                "{answered} answers were given: the questions and the audience can no longer change"
                            ),
                        });
                    }
                }
                let mut am: survey::ActiveModel = row.into();
                am.definition = Set(definition);
                am.updated_at = Set(at);
                (am.update(&txn).await?, false)
            }
            None => {
                let row = self
                    .insert(
                        &txn,
                        survey::ActiveModel {
                            id: Set(uuid::Uuid::now_v7()),
                            tenant_id: Set(self.tenant().to_string()),
                            slug: Set(slug.to_owned()),
                            definition: Set(definition),
                            created_at: Set(at),
                            updated_at: Set(at),
                        },
                    )
                    .await?;
                (row, true)
            }
        };
        self.audit_on(&txn, "survey.put", ("survey", slug), serde_json::json!({ "created": created })).await?;
        txn.commit().await?;
        Ok((stored_of(row)?, created))
    }

    /// Every survey of the tenant, by slug.
    pub async fn surveys(&self) -> StoreResult<Vec<StoredSurvey>> {
        self.require_any(&[Action::SubmitRequest, Action::ReadRequests, Action::PublishContent])?;
        let rows = self.select::<survey::Entity>().order_by_asc(survey::Column::Slug).all(&self.store().read).await?;
        rows.into_iter().map(stored_of).collect()
    }

    pub async fn survey(&self, slug: &SurveySlug) -> StoreResult<StoredSurvey> {
        self.require_any(&[
            Action::SubmitRequest,
            Action::ReadRequests,
            Action::PublishContent,
            Action::AnswerRequests,
        ])?;
        let row = self
            .select::<survey::Entity>()
            .filter(survey::Column::Slug.eq(slug.as_str()))
            .one(&self.store().read)
            .await?
            .ok_or(StoreError::NotFound("survey"))?;
        stored_of(row)
    }

    /// Invites bodies: one invitation per (survey, body), its e-mail in the same transaction.
    /// Answers, per body asked, whether it was invited now (`false`: it was before, and
    /// nothing was written or sent).
    pub async fn invite(
        &self,
        survey: uuid::Uuid,
        new: Vec<NewInvitation>,
        at: DateTime<Utc>,
    ) -> StoreResult<Vec<bool>> {
        self.require(Action::AnswerRequests)?;
        let tenant = self.tenant().to_string();
        let txn = self.store().write.begin().await?;
        let mut written = Vec::with_capacity(new.len());
        for n in new {
            let exists = self
                .select::<survey_invitation::Entity>()
                .filter(survey_invitation::Column::SurveyId.eq(survey))
                .filter(survey_invitation::Column::EnteId.eq(n.ente))
                .one(&txn)
                .await?
                .is_some();
            if exists {
                written.push(false);
                continue;
            }
            self.insert(
                &txn,
                survey_invitation::ActiveModel {
                    id: Set(n.id),
                    tenant_id: Set(tenant.clone()),
                    survey_id: Set(survey),
                    ente_id: Set(n.ente),
                    secret_hash: Set(n.secret_hash),
                    created_at: Set(at),
                },
            )
            .await?;
            if let Some(mail) = n.mail {
                enqueue(&txn, &tenant, mail, at).await?;
            }
            written.push(true);
        }
        let count = written.iter().filter(|w| **w).count();
        self.audit_on(&txn, "survey.invite", ("survey", &survey.to_string()), serde_json::json!({ "invited": count }))
            .await?;
        txn.commit().await?;
        Ok(written)
    }

    /// A survey's invitations, each with its answer if there is one (staff).
    pub async fn invitations(&self, survey: uuid::Uuid) -> StoreResult<Vec<(Invitation, Option<Response>)>> {
        self.require(Action::ReadRequests)?;
        let read = &self.store().read;
        let invitations = self
            .select::<survey_invitation::Entity>()
            .filter(survey_invitation::Column::SurveyId.eq(survey))
            .order_by_asc(survey_invitation::Column::CreatedAt)
            .order_by_asc(survey_invitation::Column::Id)
            .all(read)
            .await?;
        let mut responses = self
            .select::<survey_response::Entity>()
            .filter(survey_response::Column::SurveyId.eq(survey))
            .filter(survey_response::Column::InvitationId.is_not_null())
            .all(read)
            .await?
            .into_iter()
            .map(response_of)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(invitations
            .into_iter()
            .map(|i| {
                let answer =
                    responses.iter().position(|r| r.invitation == Some(i.id)).map(|p| responses.swap_remove(p));
                (invitation_of(i), answer)
            })
            .collect())
    }

    /// The invitation behind a link's secret, with its answer so far (anybody holding it).
    pub async fn invitation_by_secret(&self, hash: &str) -> StoreResult<(Invitation, Option<Response>)> {
        self.require(Action::SubmitRequest)?;
        let read = &self.store().read;
        let invitation = self
            .select::<survey_invitation::Entity>()
            .filter(survey_invitation::Column::SecretHash.eq(hash))
            .one(read)
            .await?
            .ok_or(StoreError::NotFound("invitation"))?;
        let response = self
            .select::<survey_response::Entity>()
            .filter(survey_response::Column::InvitationId.eq(invitation.id))
            .one(read)
            .await?
            .map(response_of)
            .transpose()?;
        Ok((invitation_of(invitation), response))
    }

    /// Saves an invitation's answers: as a draft (`send` false), or sent, after which they
    /// never change (409 `already_answered`).
    pub async fn save_answers(
        &self,
        invitation: &Invitation,
        answers: &Answers,
        send: bool,
        at: DateTime<Utc>,
    ) -> StoreResult<Response> {
        self.require(Action::SubmitRequest)?;
        let json = serde_json::Value::Object(answers.clone()).to_string();
        let status = if send { ResponseStatus::Sent } else { ResponseStatus::Draft };
        let txn = self.store().write.begin().await?;
        let existing = self
            .select::<survey_response::Entity>()
            .filter(survey_response::Column::InvitationId.eq(invitation.id))
            .one(&txn)
            .await?;
        let row = match existing {
            Some(row) if row.status == ResponseStatus::Sent.as_str() => return Err(already_sent()),
            Some(row) => {
                // Only a draft is changed: a send racing this one cannot be overwritten.
                let done = self
                    .update::<survey_response::Entity>()
                    .col_expr(survey_response::Column::Answers, json.clone().into())
                    .col_expr(survey_response::Column::Status, status.as_str().into())
                    .col_expr(survey_response::Column::UpdatedAt, at.into())
                    .col_expr(survey_response::Column::SentAt, send.then_some(at).into())
                    .filter(survey_response::Column::Id.eq(row.id))
                    .filter(survey_response::Column::Status.eq(ResponseStatus::Draft.as_str()))
                    .exec(&txn)
                    .await?;
                if done.rows_affected == 0 {
                    return Err(already_sent());
                }
                survey_response::Model {
                    answers: json,
                    status: status.as_str().into(),
                    updated_at: at,
                    sent_at: send.then_some(at),
                    ..row
                }
            }
            None => self
                .insert(
                    &txn,
                    survey_response::ActiveModel {
                        id: Set(uuid::Uuid::now_v7()),
                        tenant_id: Set(self.tenant().to_string()),
                        survey_id: Set(invitation.survey),
                        invitation_id: Set(Some(invitation.id)),
                        answers: Set(json),
                        status: Set(status.as_str().into()),
                        created_at: Set(at),
                        updated_at: Set(at),
                        sent_at: Set(send.then_some(at)),
                    },
                )
                .await
                // The other tab's first save won the unique index: send again to see.
                .map_err(StoreError::unique("invitation", "the answers were saved at the same time elsewhere"))?,
        };
        txn.commit().await?;
        response_of(row)
    }

    /// Stores an anonymous answer, sent at once.
    pub async fn answer_anonymously(
        &self,
        survey: uuid::Uuid,
        answers: &Answers,
        at: DateTime<Utc>,
    ) -> StoreResult<Response> {
        self.require(Action::SubmitRequest)?;
        let txn = self.store().write.begin().await?;
        let row = self
            .insert(
                &txn,
                survey_response::ActiveModel {
                    id: Set(uuid::Uuid::now_v7()),
                    tenant_id: Set(self.tenant().to_string()),
                    survey_id: Set(survey),
                    invitation_id: Set(None),
                    answers: Set(serde_json::Value::Object(answers.clone()).to_string()),
                    status: Set(ResponseStatus::Sent.as_str().into()),
                    created_at: Set(at),
                    updated_at: Set(at),
                    sent_at: Set(Some(at)),
                },
            )
            .await?;
        txn.commit().await?;
        response_of(row)
    }

    /// Every sent answer of a survey, each with the body of its invitation (`None` when
    /// anonymous), oldest first. Anybody may ask: the API decides who sees what of them.
    pub async fn sent_answers(&self, survey: uuid::Uuid) -> StoreResult<Vec<(Response, Option<uuid::Uuid>)>> {
        self.require_any(&[Action::SubmitRequest, Action::ReadRequests])?;
        let read = &self.store().read;
        let responses = self
            .select::<survey_response::Entity>()
            .filter(survey_response::Column::SurveyId.eq(survey))
            .filter(survey_response::Column::Status.eq(ResponseStatus::Sent.as_str()))
            .order_by_asc(survey_response::Column::SentAt)
            .order_by_asc(survey_response::Column::Id)
            .all(read)
            .await?;
        let invitations = self
            .select::<survey_invitation::Entity>()
            .filter(survey_invitation::Column::SurveyId.eq(survey))
            .all(read)
            .await?;
        responses
            .into_iter()
            .map(|r| {
                let ente =
                    r.invitation_id.and_then(|i| invitations.iter().find(|inv| inv.id == i)).map(|inv| inv.ente_id);
                Ok((response_of(r)?, ente))
            })
            .collect()
    }
}
