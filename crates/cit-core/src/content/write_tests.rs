#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::TimeZone;
use serde_json::json;

use super::*;
use crate::content::ContentTypeDef;

/// `prova`: a required `title` and an optional `body`.
fn ct() -> ContentType {
    let def: ContentTypeDef = serde_json::from_value(json!({
        "singular": "Prova", "plural": "Prove",
        "fields": [
            {"name": "title", "kind": "string", "label": "Title", "required": true},
            {"name": "body", "kind": "text", "label": "Body"},
        ],
    }))
    .unwrap();
    ContentType::parse("prova", &def).unwrap()
}

fn data(v: serde_json::Value) -> Option<Map<String, Value>> {
    Some(v.as_object().unwrap().clone())
}

fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 24, 9, 0, 0).unwrap()
}

fn locales() -> Vec<String> {
    vec!["it".into(), "en".into()]
}

fn entry(status: EntryStatus, publish_at: Option<DateTime<Utc>>) -> Entry {
    Entry {
        id: EntryId::new(),
        type_id: "prova".into(),
        locale: "it".into(),
        translation_group: uuid::Uuid::now_v7(),
        slug: "prova".into(),
        status,
        data: data(json!({"title": "Prima", "body": "Testo"})).unwrap(),
        publish_at,
        unpublish_at: None,
        published_at: (status == EntryStatus::Published).then(at),
        created_at: at(),
        updated_at: at(),
        author: "user:x".into(),
        revision: 3,
    }
}

fn input_error(e: WriteError) -> (WriteInput, &'static str) {
    match e {
        WriteError::Input { input, code, .. } => (input, code),
        WriteError::Data(d) => panic!("expected an input error, got {d:?}"),
    }
}

fn data_codes(e: WriteError) -> Vec<(String, &'static str)> {
    match e {
        WriteError::Data(d) => d.into_iter().map(|e| (e.path, e.code)).collect(),
        other => panic!("expected data errors, got {other:?}"),
    }
}

// ---- create --------------------------------------------------------------------------------

#[test]
fn a_plain_draft_needs_the_right_to_write_and_may_be_incomplete() {
    let input = EntryInput { data: data(json!({"body": "solo testo"})), ..EntryInput::default() };
    assert_eq!(input.create_action(), Action::WriteContent);
    let plan = input.plan_create(&ct(), &locales()).unwrap();
    assert_eq!(plan.action(), Action::WriteContent);
    assert_eq!(plan.status(), EntryStatus::Draft);
    assert_eq!(plan.published_at(at()), None);
}

#[test]
fn publishing_archiving_or_scheduling_a_new_entry_needs_the_right_to_publish_and_complete_data() {
    for (status, publish_at) in
        [(Some(EntryStatus::Published), None), (Some(EntryStatus::Archived), None), (None, Some(Some(at())))]
    {
        let input = EntryInput { data: data(json!({"body": "x"})), status, publish_at, ..EntryInput::default() };
        assert_eq!(input.create_action(), Action::PublishContent, "{status:?} {publish_at:?}");
        assert_eq!(data_codes(input.plan_create(&ct(), &locales()).unwrap_err()), vec![("title".into(), "required")]);
    }
    let input =
        EntryInput { data: data(json!({"title": "T"})), status: Some(EntryStatus::Published), ..EntryInput::default() };
    let plan = input.plan_create(&ct(), &locales()).unwrap();
    assert_eq!(plan.action(), Action::PublishContent);
    assert_eq!(plan.published_at(at()), Some(at()));
}

#[test]
fn create_refuses_conflicting_inputs() {
    let scheduled_but_published = EntryInput {
        data: data(json!({"title": "T"})),
        status: Some(EntryStatus::Published),
        publish_at: Some(Some(at())),
        ..EntryInput::default()
    };
    assert_eq!(
        input_error(scheduled_but_published.plan_create(&ct(), &locales()).unwrap_err()),
        (WriteInput::PublishAt, "conflicting_status")
    );
    let with_revision = EntryInput { data: data(json!({"title": "T"})), revision: Some(2), ..EntryInput::default() };
    assert_eq!(
        input_error(with_revision.plan_create(&ct(), &locales()).unwrap_err()),
        (WriteInput::Revision, "unknown_field")
    );
    let without_data = EntryInput::default();
    assert_eq!(
        input_error(without_data.plan_create(&ct(), &locales()).unwrap_err()),
        (WriteInput::Data, "missing_field")
    );
}

#[test]
fn the_locale_is_the_one_asked_for_or_the_tenants_first() {
    let plan = |locale: Option<&str>, locales: &[String]| {
        EntryInput { data: data(json!({})), locale: locale.map(String::from), ..EntryInput::default() }
            .plan_create(&ct(), locales)
    };
    assert_eq!(plan(None, &locales()).unwrap().locale().as_str(), "it");
    assert_eq!(plan(None, &["en".into(), "it".into()]).unwrap().locale().as_str(), "en");
    assert_eq!(plan(Some("en"), &locales()).unwrap().locale().as_str(), "en");
    assert_eq!(plan(None, &[]).unwrap().locale().as_str(), "it");
    assert_eq!(input_error(plan(Some("de"), &locales()).unwrap_err()), (WriteInput::Locale, "unknown_locale"));
}

// ---- update --------------------------------------------------------------------------------

#[test]
fn update_merges_the_patch_key_by_key_and_null_clears_a_field() {
    let current = entry(EntryStatus::Draft, None);
    let change = EntryInput { data: data(json!({"body": null, "title": "Seconda"})), ..EntryInput::default() }
        .plan_update(&current)
        .unwrap()
        .validate(&ct())
        .unwrap();
    assert_eq!(change.data().unwrap().data, *data(json!({"title": "Seconda", "body": null})).as_ref().unwrap());
    assert_eq!(change.note(), "updated");
    assert_eq!(change.entry(), current.id);
}

#[test]
fn update_without_data_status_or_schedule_leaves_the_data_alone() {
    let current = entry(EntryStatus::Draft, None);
    let slug = Slug::parse("nuovo").unwrap();
    let change =
        EntryInput { slug: Some(slug.clone()), ..EntryInput::default() }.plan_update(&current).unwrap().validate(&ct());
    let change = change.unwrap();
    assert!(change.data().is_none());
    assert_eq!(change.slug(), Some(&slug));
    // A status change re-validates the current data even without a patch.
    let change = EntryInput { status: Some(EntryStatus::Archived), ..EntryInput::default() }
        .plan_update(&current)
        .unwrap()
        .validate(&ct())
        .unwrap();
    assert_eq!(change.data().unwrap().data, current.data);
    assert_eq!(change.note(), "archived");
}

#[test]
fn the_right_an_update_needs_follows_the_status_before_and_after() {
    let action = |current: Entry, input: EntryInput| input.plan_update(&current).unwrap().action();
    let edit = || EntryInput { data: data(json!({"body": "b"})), ..EntryInput::default() };
    assert_eq!(action(entry(EntryStatus::Draft, None), edit()), Action::WriteContent);
    // Changing what is published, archived or scheduled needs the right to publish.
    assert_eq!(action(entry(EntryStatus::Published, None), edit()), Action::PublishContent);
    assert_eq!(action(entry(EntryStatus::Archived, None), edit()), Action::PublishContent);
    assert_eq!(action(entry(EntryStatus::Draft, Some(at())), edit()), Action::PublishContent);
    // So do publishing, scheduling and unpublishing …
    let publish = EntryInput { status: Some(EntryStatus::Published), ..EntryInput::default() };
    assert_eq!(action(entry(EntryStatus::Draft, None), publish), Action::PublishContent);
    let schedule = EntryInput { publish_at: Some(Some(at())), ..EntryInput::default() };
    assert_eq!(action(entry(EntryStatus::Draft, None), schedule), Action::PublishContent);
    let unpublish = EntryInput { status: Some(EntryStatus::Draft), ..EntryInput::default() };
    assert_eq!(action(entry(EntryStatus::Published, None), unpublish), Action::PublishContent);
    // … but clearing the schedule of a plain draft does not.
    let clear = EntryInput { publish_at: Some(None), ..EntryInput::default() };
    assert_eq!(action(entry(EntryStatus::Draft, None), clear), Action::WriteContent);
}

#[test]
fn an_update_is_validated_in_full_when_the_entry_is_or_will_be_published() {
    let incomplete = || data(json!({"title": null}));
    let validate = |current: Entry, input: EntryInput| input.plan_update(&current).unwrap().validate(&ct());
    let draft = EntryInput { data: incomplete(), ..EntryInput::default() };
    assert!(validate(entry(EntryStatus::Draft, None), draft).is_ok());
    let archived = EntryInput { data: incomplete(), status: Some(EntryStatus::Archived), ..EntryInput::default() };
    assert!(validate(entry(EntryStatus::Published, None), archived).is_ok());
    for (current, input) in [
        (entry(EntryStatus::Published, None), EntryInput { data: incomplete(), ..EntryInput::default() }),
        (entry(EntryStatus::Draft, Some(at())), EntryInput { data: incomplete(), ..EntryInput::default() }),
        (
            entry(EntryStatus::Draft, None),
            EntryInput { data: incomplete(), publish_at: Some(Some(at())), ..EntryInput::default() },
        ),
    ] {
        assert_eq!(data_codes(validate(current, input).unwrap_err()), vec![("title".into(), "required")]);
    }
}

#[test]
fn update_refuses_what_cannot_change_and_an_archived_schedule() {
    let current = entry(EntryStatus::Draft, None);
    let locale = EntryInput { locale: Some("en".into()), ..EntryInput::default() };
    assert_eq!(input_error(locale.check_update().unwrap_err()), (WriteInput::Locale, "immutable"));
    let of = EntryInput { translation_of: Some(EntryId::new()), ..EntryInput::default() };
    assert_eq!(input_error(of.plan_update(&current).unwrap_err()), (WriteInput::TranslationOf, "immutable"));
    let archive_scheduled = EntryInput { status: Some(EntryStatus::Archived), ..EntryInput::default() };
    assert_eq!(
        input_error(archive_scheduled.plan_update(&entry(EntryStatus::Draft, Some(at()))).unwrap_err()),
        (WriteInput::PublishAt, "conflicting_status")
    );
}

#[test]
fn publishing_clears_the_schedule_and_sets_the_publication_time_once() {
    let scheduled = entry(EntryStatus::Draft, Some(at()));
    let change = EntryInput { status: Some(EntryStatus::Published), ..EntryInput::default() }
        .plan_update(&scheduled)
        .unwrap()
        .validate(&ct())
        .unwrap();
    assert_eq!((change.status(), change.publish_at(), change.note()), (EntryStatus::Published, None, "published"));
    let later = at() + chrono::Duration::hours(1);
    assert_eq!(change.published_at(None, later), Some(later));
    let published = entry(EntryStatus::Published, None);
    let edit = EntryInput { data: data(json!({"body": "b"})), ..EntryInput::default() }
        .plan_update(&published)
        .unwrap()
        .validate(&ct())
        .unwrap();
    assert_eq!(edit.published_at(Some(at()), later), Some(at()));
    let back = EntryInput { status: Some(EntryStatus::Draft), ..EntryInput::default() }
        .plan_update(&published)
        .unwrap()
        .validate(&ct())
        .unwrap();
    assert_eq!((back.published_at(Some(at()), later), back.note()), (None, "unpublished"));
}

#[test]
fn a_change_applies_only_to_the_status_and_schedule_it_was_decided_on() {
    let change = EntryInput { data: data(json!({"body": "b"})), ..EntryInput::default() }
        .plan_update(&entry(EntryStatus::Draft, None))
        .unwrap()
        .validate(&ct())
        .unwrap();
    assert!(change.still_applies(EntryStatus::Draft, None));
    assert!(!change.still_applies(EntryStatus::Published, None));
    assert!(!change.still_applies(EntryStatus::Draft, Some(at())));
}

#[test]
fn restore_replaces_the_data_keeps_status_and_needs_the_right_the_entry_needs() {
    let old = Revision {
        revision: 1,
        slug: "prova".into(),
        status: EntryStatus::Draft,
        data: data(json!({"title": "Vecchia"})).unwrap(),
        author: "user:x".into(),
        note: "created".into(),
        created_at: at(),
    };
    let draft = entry(EntryStatus::Draft, None);
    let pending = plan_restore(&draft, &old);
    assert_eq!(pending.action(), Action::WriteContent);
    let change = pending.validate(&ct()).unwrap();
    assert_eq!(change.data().unwrap().data, old.data);
    assert_eq!((change.status(), change.note()), (EntryStatus::Draft, "restored:1"));
    assert_eq!(plan_restore(&entry(EntryStatus::Published, None), &old).action(), Action::PublishContent);
    let incomplete = Revision { data: Map::new(), ..old };
    assert!(plan_restore(&entry(EntryStatus::Published, None), &incomplete).validate(&ct()).is_err());
    assert!(plan_restore(&entry(EntryStatus::Archived, None), &incomplete).validate(&ct()).is_ok());
}
