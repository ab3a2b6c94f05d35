//! A consistent copy of a live SQLite database, for `cit backup`.

use std::path::Path;

use sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::{Backend, Store, StoreError, StoreResult};

impl Store {
    /// SQLite only: writes the database as of one instant to `dest`, a new file, with
    /// `VACUUM INTO` on one of the store's reading connections. It runs inside one read
    /// transaction, so the copy holds every transaction committed before it started and none
    /// after, while the server goes on writing (WAL lets the writer continue beside it).
    pub async fn vacuum_into(&self, dest: &Path) -> StoreResult<()> {
        if self.backend != Backend::Sqlite {
            return Err(StoreError::InvalidUrl("an online copy with VACUUM INTO needs SQLite".into()));
        }
        let dest = dest.to_str().ok_or_else(|| StoreError::Io {
            context: format!("cannot write the copy to {}", dest.display()),
            source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "the path is not UTF-8"),
        })?;
        // The file name is bound as a value (SQLite takes any expression after INTO), never
        // written into the SQL.
        self.read
            .execute_raw(Statement::from_sql_and_values(DbBackend::Sqlite, "VACUUM INTO ?", [dest.into()]))
            .await?;
        Ok(())
    }
}
