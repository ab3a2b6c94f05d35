//! What every migration writes again: tenant-owned tables keyed by a UUID, the tenant column
//! and its key, keys that go with their parent row, named indexes, dropping tables in order.
//! Plain functions over sea-query's builders, so a migration reads as the list of its tables.
//! Changing what one of them builds changes tables that have landed: `tests/schema.rs` compares
//! the result with the golden files.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

/// Columns of a table being created that come with their constraints. The keys are declared
/// from the table the statement creates (set it with `.table(…)` first).
pub trait TableDdl {
    fn statement(&mut self) -> &mut TableCreateStatement;

    /// `tenant_id varchar(40) NOT NULL`, its rows deleted with the tenant.
    fn tenant_column(&mut self, column: impl IntoIden) -> &mut TableCreateStatement {
        let column = column.into_iden();
        self.statement().col(string_len(column.clone(), 40)).belongs_to(column, Tenants::Table, Tenants::Id)
    }

    /// A key from `column` to `parent.id`: the row goes when its parent goes.
    fn belongs_to(
        &mut self,
        column: impl IntoIden,
        parent: impl IntoIden,
        parent_id: impl IntoIden,
    ) -> &mut TableCreateStatement {
        let mut key = ForeignKey::create();
        if let Some(table) = self.statement().get_table_name() {
            key.from_tbl(table.clone());
        }
        key.from_col(column).to(parent, parent_id).on_delete(ForeignKeyAction::Cascade);
        self.statement().foreign_key(&mut key)
    }
}

impl TableDdl for TableCreateStatement {
    fn statement(&mut self) -> &mut TableCreateStatement {
        self
    }
}

/// `CREATE TABLE table (id uuid PRIMARY KEY, tenant_id …)`: a tenant-owned table keyed by a
/// UUID, its rows deleted with the tenant. The caller adds the other columns.
pub fn tenant_table(table: impl IntoIden, id: impl IntoIden, tenant: impl IntoIden) -> TableCreateStatement {
    let mut statement = Table::create();
    statement.table(table).col(uuid(id).primary_key()).tenant_column(tenant);
    statement
}

/// `CREATE INDEX name ON table (columns…)`.
pub fn index<C: IntoIden>(
    name: &str,
    table: impl IntoIden,
    columns: impl IntoIterator<Item = C>,
) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(table);
    for c in columns {
        index.col(c);
    }
    index
}

/// `CREATE UNIQUE INDEX name ON table (columns…)`.
pub fn unique_index<C: IntoIden>(
    name: &str,
    table: impl IntoIden,
    columns: impl IntoIterator<Item = C>,
) -> IndexCreateStatement {
    let mut index = index(name, table, columns);
    index.unique();
    index
}

/// Drops the tables in the order given (children before their parents).
pub async fn drop_tables(m: &SchemaManager<'_>, tables: impl IntoIterator<Item = DynIden>) -> Result<(), DbErr> {
    for table in tables {
        m.drop_table(Table::drop().table(table).to_owned()).await?;
    }
    Ok(())
}

/// Runs raw statements in order (what sea-query cannot say: FTS5 tables, triggers, generated
/// columns).
pub async fn execute(m: &SchemaManager<'_>, statements: &[&str]) -> Result<(), DbErr> {
    for sql in statements {
        m.get_connection().execute_unprepared(sql).await?;
    }
    Ok(())
}
