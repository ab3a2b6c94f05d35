//! Login sessions and their rotating refresh tokens. (API tokens are found by hash in
//! [`crate::cross_tenant`]: they belong to a tenant.)
//!
//! A session is the family of refresh tokens issued from one login. Each refresh token can be
//! spent once; spending it again (a replay, e.g. by a thief who copied it) revokes the whole
//! session, and with it every access token that names the session.

use chrono::{DateTime, Utc};
use cit_core::{SessionId, UserId};
use sea_orm::sea_query::{Expr, IntoCondition};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionTrait,
};

use crate::entity::{refresh_token, session, user};
use crate::{Rotation, Store, StoreResult, User};

pub(crate) async fn revoke_all_sessions(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    user: uuid::Uuid,
    reason: &str,
) -> StoreResult<u64> {
    revoke_where(conn, now, session::Column::UserId.eq(user), reason).await
}

async fn revoke(conn: &impl ConnectionTrait, now: DateTime<Utc>, id: uuid::Uuid, reason: &str) -> StoreResult<bool> {
    Ok(revoke_where(conn, now, session::Column::Id.eq(id), reason).await? > 0)
}

/// Revokes, at `now` and for `reason`, the sessions `which` selects that are still live; how many.
async fn revoke_where(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    which: impl IntoCondition,
    reason: &str,
) -> StoreResult<u64> {
    let res = session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(now))
        .col_expr(session::Column::RevokedReason, Expr::value(reason))
        .filter(which)
        .filter(session::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(res.rows_affected)
}

async fn insert_refresh(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    session: uuid::Uuid,
    token_hash: String,
    expires_at: DateTime<Utc>,
) -> StoreResult<()> {
    refresh_token::ActiveModel {
        id: Set(uuid::Uuid::now_v7()),
        session_id: Set(session),
        token_hash: Set(token_hash),
        created_at: Set(now),
        expires_at: Set(expires_at),
        used_at: Set(None),
    }
    .insert(conn)
    .await?;
    Ok(())
}

impl Store {
    /// Starts a session for a user who just proved who they are, with its first refresh token.
    pub async fn start_session(
        &self,
        user: UserId,
        refresh_hash: String,
        refresh_expires_at: DateTime<Utc>,
        session_expires_at: DateTime<Utc>,
    ) -> StoreResult<SessionId> {
        let id = SessionId::new();
        let now = self.now();
        let txn = self.write.begin().await?;
        session::ActiveModel {
            id: Set(id.0),
            user_id: Set(user.0),
            created_at: Set(now),
            expires_at: Set(session_expires_at),
            revoked_at: Set(None),
            revoked_reason: Set(None),
        }
        .insert(&txn)
        .await?;
        insert_refresh(&txn, now, id.0, refresh_hash, refresh_expires_at.min(session_expires_at)).await?;
        txn.commit().await?;
        Ok(id)
    }

    /// Spends the refresh token whose hash is `old_hash` and stores `new_hash` in its place.
    /// A token spent twice revokes its session (reuse detection); the check-and-spend is one
    /// conditional update, so two concurrent refreshes with the same token cannot both win.
    pub async fn rotate_refresh(
        &self,
        old_hash: &str,
        new_hash: String,
        refresh_expires_at: DateTime<Utc>,
    ) -> StoreResult<Rotation> {
        let now = self.now();
        let txn = self.write.begin().await?;
        let Some(old) =
            refresh_token::Entity::find().filter(refresh_token::Column::TokenHash.eq(old_hash)).one(&txn).await?
        else {
            return Ok(Rotation::Invalid);
        };
        let Some((sess, Some(owner))) =
            session::Entity::find_by_id(old.session_id).find_also_related(user::Entity).one(&txn).await?
        else {
            return Ok(Rotation::Invalid);
        };
        if sess.revoked_at.is_some() || sess.expires_at <= now || owner.disabled_at.is_some() {
            return Ok(Rotation::Invalid);
        }
        if old.used_at.is_some() {
            revoke(&txn, now, sess.id, "refresh_token_reuse").await?;
            txn.commit().await?;
            return Ok(Rotation::Reused);
        }
        if old.expires_at <= now {
            return Ok(Rotation::Invalid);
        }
        let spent = refresh_token::Entity::update_many()
            .col_expr(refresh_token::Column::UsedAt, Expr::value(now))
            .filter(refresh_token::Column::Id.eq(old.id))
            .filter(refresh_token::Column::UsedAt.is_null())
            .exec(&txn)
            .await?;
        if spent.rows_affected == 0 {
            revoke(&txn, now, sess.id, "refresh_token_reuse").await?;
            txn.commit().await?;
            return Ok(Rotation::Reused);
        }
        insert_refresh(&txn, now, sess.id, new_hash, refresh_expires_at.min(sess.expires_at)).await?;
        txn.commit().await?;
        Ok(Rotation::Rotated { session: SessionId(sess.id), user: UserId(owner.id) })
    }

    /// Ends a session (logout). Returns whether it was still active.
    pub async fn revoke_session(&self, id: SessionId, reason: &str) -> StoreResult<bool> {
        revoke(&self.write, self.now(), id.0, reason).await
    }

    /// The user behind an active, unexpired session, if the user is not disabled. Called for every
    /// request that carries an access token, so a logout or a reuse revocation takes effect at once.
    pub async fn session_user(&self, id: SessionId) -> StoreResult<Option<User>> {
        let found = session::Entity::find_by_id(id.0).find_also_related(user::Entity).one(&self.read).await?;
        Ok(match found {
            Some((s, Some(u))) if s.revoked_at.is_none() && s.expires_at > self.now() && u.disabled_at.is_none() => {
                Some(u.into())
            }
            _ => None,
        })
    }
}
