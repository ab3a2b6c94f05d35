//! Content types as written in `schema/*.toml` and over the admin API (`*Def`, raw), and as
//! checked (`ContentType`, `Field`): a value of the checked types is a valid model.
//!
//! - [`ids`]: type ids and field names;
//! - [`definitions`]: the raw forms (schema files, type and field definitions);
//! - [`fields`]: checked fields and their kinds;
//! - [`types`]: checked content types and the references between them.

mod definitions;
mod fields;
mod ids;
mod types;

pub use definitions::{ContentTypeDef, FieldDef, SchemaFile};
pub(super) use fields::Measure;
pub use fields::{Field, FieldKind};
pub use ids::{FieldName, TypeId};
pub use types::{ContentType, check_references};

#[cfg(test)]
mod tests;
