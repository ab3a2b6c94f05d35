//! The content model: content types, their fields and rules, and the validation of entry data
//! against them. Pure functions, no I/O: the store checks what needs the database (references
//! exist, unique values) using what these functions report.

mod diff;
mod entry;
mod model;
mod query;
mod slug;
mod validate;
mod write;

pub use diff::{Change, SchemaDiff, diff_types};
pub use entry::{Entry, EntryStatus, Revision};
pub use model::{
    ContentType, ContentTypeDef, Field, FieldDef, FieldKind, FieldName, SchemaFile, TypeId, check_references,
};
pub use query::{Cursor, CursorValue, Filter, FilterValue, ListQuery, Op, SortKey, SysField, Target, ValueType};
pub use slug::{Slug, slugify};
pub use validate::{DataError, Mode, Validated, validate_data};
pub use write::{EntryChange, EntryInput, NewEntry, PendingChange, WriteError, WriteInput, plan_restore};
