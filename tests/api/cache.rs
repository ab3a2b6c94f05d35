//! The in-process read cache: public reads are answered from memory, every write is seen at once
//! by the writer and, on PostgreSQL, by every other API node before the writer hears back.

use std::time::{Duration, Instant};

use chrono::Utc;
use cit_tests::{Node, Res, TestApp, spawn_app};
use serde_json::{Value, json};

const LIST: &str = "/api/v1/t/lecce/entries/notizia?sort=-published_at&limit=20";

fn cache(res: &Res) -> Option<&str> {
    res.header("x-cit-cache")
}

async fn news(app: &TestApp, token: &str, tenant: &str, title: &str) -> String {
    let res = app
        .post(
            &format!("/api/v1/t/{tenant}/entries/notizia"),
            Some(token),
            json!({"status": "published", "data": {"title": title, "summary": "Sommario.", "body": "Testo."}}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    res.body["id"].as_str().unwrap().to_owned()
}

fn titles(res: &Res) -> Vec<String> {
    assert_eq!(res.status, 200, "{}", res.text);
    res.body["data"].as_array().unwrap().iter().map(|e| e["data"]["title"].as_str().unwrap().to_owned()).collect()
}

async fn preset(app: &TestApp) -> String {
    let root = app.admin_token().await;
    for t in ["lecce", "genova"] {
        app.create_tenant(&root, t).await;
        app.apply_preset(&root, t).await;
    }
    root
}

#[tokio::test]
async fn public_reads_come_from_memory_and_every_write_is_seen_at_once() {
    let app = spawn_app().await;
    let root = preset(&app).await;
    let id = news(&app, &root, "lecce", "Prima").await;
    news(&app, &root, "genova", "Genova").await;
    until_serving(&[&app.state], 0).await;

    // The second anonymous read is answered without touching the database.
    let first = app.get(LIST, None).await;
    assert_eq!((titles(&first), cache(&first)), (vec!["Prima".to_owned()], Some("miss")));
    let before = app.store.query_count();
    let second = app.get(LIST, None).await;
    assert_eq!(app.store.query_count(), before, "a hit runs no statement");
    assert_eq!((cache(&second), second.text.as_str()), (Some("hit"), first.text.as_str()));
    assert_eq!(second.header("etag"), first.header("etag"));
    assert_eq!(second.header("cache-control"), Some("public, no-cache"));
    let etag = first.header("etag").unwrap().to_owned();
    let revalidated = app.client.get(app.url(LIST)).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(revalidated.status(), 304);

    // Callers with a token, and what is not public, are never answered from memory.
    let editor = app.get(LIST, Some(&root)).await;
    assert_eq!(cache(&editor), None);
    let drafts = "/api/v1/t/lecce/entries/notizia?status=draft";
    app.get(drafts, Some(&root)).await;
    assert_eq!(cache(&app.get(drafts, Some(&root)).await), None);

    // A write to another tenant leaves lecce's answers; a write to lecce is seen by the next read.
    news(&app, &root, "genova", "Genova 2").await;
    assert_eq!(cache(&app.get(LIST, None).await), Some("hit"), "kept by tenant");
    let patched = app
        .patch(&format!("/api/v1/t/lecce/entries/notizia/{id}"), Some(&root), json!({"data": {"title": "Seconda"}}))
        .await;
    assert_eq!(patched.status, 200, "{}", patched.text);
    let after = app.get(LIST, None).await;
    assert_eq!((titles(&after), cache(&after)), (vec!["Seconda".to_owned()], Some("miss")));
    let by_slug = format!("/api/v1/t/lecce/entries/notizia/{id}");
    app.get(&by_slug, None).await;
    app.delete(&by_slug, Some(&root)).await;
    assert_eq!(app.get(&by_slug, None).await.status, 404, "a deleted entry is gone at once");

    // GraphQL over GET is kept too; a POST query forgets nothing, a mutation forgets lecce.
    let gql = "/api/v1/t/lecce/graphql?query=%7BnotiziaList%7Bnodes%7Btitle%7D%7D%7D";
    let q = app.get(gql, None).await;
    assert_eq!(cache(&q), Some("miss"), "{}", q.text);
    assert_eq!(cache(&app.get(gql, None).await), Some("hit"));
    let read = app.post("/api/v1/t/lecce/graphql", None, json!({"query": "{ notiziaList { totalCount } }"})).await;
    assert_eq!(read.status, 200);
    assert_eq!(cache(&app.get(gql, None).await), Some("hit"), "a query is not a write");
    let created = app
        .post(
            "/api/v1/t/lecce/graphql",
            Some(&root),
            json!({"query": "mutation { createNotizia(data: {title: \"Terza\", summary: \"S\", body: \"B\"}, status: PUBLISHED) { id } }"}),
        )
        .await;
    assert!(created.body.get("errors").is_none(), "{}", created.text);
    let q = app.get(gql, None).await;
    assert_eq!(cache(&q), Some("miss"));
    assert!(q.text.contains("Terza"), "{}", q.text);

    // A scheduled publication reaches cached lists at the tick that publishes it.
    let at = Utc::now() + chrono::Duration::hours(1);
    let scheduled = app
        .post(
            "/api/v1/t/lecce/entries/notizia",
            Some(&root),
            json!({"data": {"title": "Programmata", "summary": "S", "body": "B"}, "publish_at": at.to_rfc3339()}),
        )
        .await;
    assert_eq!(scheduled.status, 201, "{}", scheduled.text);
    app.get(LIST, None).await;
    assert!(!titles(&app.get(LIST, None).await).contains(&"Programmata".to_owned()));
    app.clock.set(at + chrono::Duration::seconds(1));
    assert_eq!(app.tick().await.published.len(), 1);
    assert!(titles(&app.get(LIST, None).await).contains(&"Programmata".to_owned()));

    // Closing a tenant to the public closes its cached answers too.
    app.get(LIST, None).await;
    let closed = app.patch("/api/v1/tenants/lecce", Some(&root), json!({"public_read": false})).await;
    assert_eq!(closed.status, 200, "{}", closed.text);
    assert_eq!(app.get(LIST, None).await.status, 401);
}

async fn until_serving(nodes: &[&std::sync::Arc<cit_api::state::AppState>], peers: usize) {
    let started = Instant::now();
    while !nodes.iter().all(|n| n.changes.serving() && n.changes.peers() >= peers) {
        assert!(started.elapsed() < Duration::from_secs(15), "the nodes did not find each other");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn title_at(app: &TestApp, node: Option<&Node>, path: &str) -> (String, Option<String>) {
    let res = match node {
        Some(n) => app.get_at(n, path, None).await,
        None => app.get(path, None).await,
    };
    assert_eq!(res.status, 200, "{}", res.text);
    (res.body["data"]["title"].as_str().unwrap_or_default().to_owned(), cache(&res).map(str::to_owned))
}

#[tokio::test]
async fn after_an_acknowledged_write_no_node_returns_the_old_content() {
    let app = spawn_app().await;
    let root = preset(&app).await;
    let id = news(&app, &root, "lecce", "Versione 0").await;
    let path = format!("/api/v1/t/lecce/entries/notizia/{id}");
    // SQLite is one file for one API process: there the "other node" is the same one.
    let nodes = if app.db.is_postgres() { vec![app.another_node().await, app.another_node().await] } else { vec![] };
    let mut states = vec![&app.state];
    states.extend(nodes.iter().map(|n| &n.state));
    until_serving(&states, nodes.len()).await;

    for round in 1..=20 {
        // Every node has the current version in memory…
        for node in std::iter::once(None).chain(nodes.iter().map(Some)) {
            title_at(&app, node, &path).await;
            let (title, hit) = title_at(&app, node, &path).await;
            assert_eq!((title, hit.as_deref()), (format!("Versione {}", round - 1), Some("hit")));
        }
        // …a write is acknowledged by one of them…
        let writer = round % (nodes.len() + 1);
        let body = json!({"data": {"title": format!("Versione {round}")}});
        let res = match writer {
            0 => app.patch(&path, Some(&root), body).await,
            n => {
                let url = format!("{}{path}", nodes[n - 1].address);
                let res = app.client.patch(url).bearer_auth(&root).json(&body).send().await.unwrap();
                cit_tests::read(res).await
            }
        };
        assert_eq!(res.status, 200, "{}", res.text);
        // …and from then on every node answers with the new one.
        for node in std::iter::once(None).chain(nodes.iter().map(Some)) {
            let (title, _) = title_at(&app, node, &path).await;
            assert_eq!(title, format!("Versione {round}"), "round {round}, writer {writer}");
        }
    }

    if let Some((gone, rest)) = nodes.split_first() {
        // A node that stops without a word does not block writers for longer than its lease,
        // nor does it make anyone serve old content.
        gone.handle.stop(false).await;
        let body: Value = json!({"data": {"title": "Dopo"}});
        assert_eq!(app.patch(&path, Some(&root), body).await.status, 200);
        assert_eq!(title_at(&app, rest.first(), &path).await.0, "Dopo");
        assert_eq!(title_at(&app, None, &path).await.0, "Dopo");
    }
}

/// Readers that miss together wait for one computation instead of each running it: a write that
/// empties a busy tenant's shelf must not send every waiting reader to the database at once.
#[tokio::test]
async fn readers_that_miss_together_share_one_computation() {
    let app = spawn_app().await;
    let root = preset(&app).await;
    for n in 0..30 {
        news(&app, &root, "lecce", &format!("Notizia {n}")).await;
    }
    until_serving(&[&app.state], 0).await;

    // What one computation of such a list costs, alone.
    let before = app.store.query_count();
    let alone = app.get("/api/v1/t/lecce/entries/notizia?sort=-published_at&limit=19", None).await;
    assert_eq!(cache(&alone), Some("miss"));
    let one = app.store.query_count() - before;
    assert!(one > 0);

    let path = "/api/v1/t/lecce/entries/notizia?sort=-published_at&limit=18";
    let before = app.store.query_count();
    let answers = futures_util::future::join_all((0..16).map(|_| app.get(path, None))).await;
    assert_eq!(app.store.query_count() - before, one, "sixteen readers, one computation");
    let misses = answers.iter().filter(|r| cache(r) == Some("miss")).count();
    assert_eq!(misses, 1, "one computes, the others are answered with its result");
    assert!(answers.iter().all(|r| r.status == 200 && titles(r).len() == 18));

    // An answer that is not kept (a 404) is computed by each reader, and none waits forever.
    let missing = "/api/v1/t/lecce/entries/notizia/nessuna-notizia";
    let started = Instant::now();
    let answers = futures_util::future::join_all((0..8).map(|_| app.get(missing, None))).await;
    assert!(answers.iter().all(|r| r.status == 404));
    assert!(started.elapsed() < cit_api::read_cache::FOLLOW_WAIT, "followers of an answer not kept do not wait it out");
}

async fn gql(app: &TestApp, token: Option<&str>, tenant: &str, query: &str, variables: Value) -> Res {
    app.post(&format!("/api/v1/t/{tenant}/graphql"), token, json!({"query": query, "variables": variables})).await
}

fn gql_titles(res: &Res) -> Vec<String> {
    assert_eq!(res.status, 200, "{}", res.text);
    assert!(res.body.get("errors").is_none(), "{}", res.text);
    res.body["data"]["notiziaList"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["title"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn anonymous_graphql_posts_that_only_read_come_from_memory_too() {
    let app = spawn_app().await;
    let root = preset(&app).await;
    news(&app, &root, "lecce", "Prima notizia").await;
    let list = "query($n: Int) { notiziaList(first: $n) { nodes { title } } }";
    let with_drafts = "query($n: Int) { notiziaList(first: $n, status: [DRAFT, PUBLISHED]) { nodes { title } } }";

    let first = gql(&app, None, "lecce", list, json!({"n": 10})).await;
    assert_eq!(cache(&first), Some("miss"));
    assert_eq!(gql_titles(&first), ["Prima notizia"]);
    let second = gql(&app, None, "lecce", list, json!({"n": 10})).await;
    assert_eq!(cache(&second), Some("hit"));
    assert_eq!(second.body, first.body);
    assert_eq!(second.header("cache-control"), first.header("cache-control"));
    assert_eq!(second.header("etag"), None, "a POST answer is not for HTTP caches");
    // Other variables, another tenant: other answers.
    assert_eq!(cache(&gql(&app, None, "lecce", list, json!({"n": 5})).await), Some("miss"));
    assert_eq!(gql_titles(&gql(&app, None, "genova", list, json!({"n": 10})).await), Vec::<String>::new());

    // A draft, written over REST: seen at once, and never by the anonymous reader.
    let res = app
        .post(
            "/api/v1/t/lecce/entries/notizia",
            Some(&root),
            json!({"status": "draft", "data": {"title": "Bozza riservata", "summary": "S.", "body": "T."}}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let after = gql(&app, None, "lecce", list, json!({"n": 10})).await;
    assert_eq!(cache(&after), Some("miss"), "the write forgot the answer");
    assert_eq!(gql_titles(&after), ["Prima notizia"]);
    // A staff member's POST reads the draft and is neither answered from nor kept in memory.
    let staff = gql(&app, Some(&root), "lecce", with_drafts, json!({"n": 10})).await;
    assert_eq!(cache(&staff), None);
    assert_eq!(gql_titles(&staff).len(), 2);
    assert_eq!(gql_titles(&gql(&app, None, "lecce", list, json!({"n": 10})).await), ["Prima notizia"]);
    let asks_drafts = gql(&app, None, "lecce", with_drafts, json!({"n": 10})).await;
    assert!(asks_drafts.body.get("errors").is_some(), "{}", asks_drafts.text);
    assert_ne!(cache(&gql(&app, None, "lecce", with_drafts, json!({"n": 10})).await), Some("hit"));

    // A mutation over POST writes, is never kept, and is seen by the next read.
    let create = "mutation { createNotizia(status: PUBLISHED, data: {title: \"Seconda notizia\", summary: \"S.\", body: \"T.\"}) { id } }";
    let res = gql(&app, Some(&root), "lecce", create, json!({})).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert!(res.body.get("errors").is_none(), "{}", res.text);
    let seen = gql(&app, None, "lecce", list, json!({"n": 10})).await;
    assert_eq!(cache(&seen), Some("miss"));
    assert_eq!(gql_titles(&seen).len(), 2);
    // An anonymous mutation is refused, and the refusal is not kept either.
    let refused = gql(&app, None, "lecce", create, json!({})).await;
    assert_ne!(cache(&refused), Some("hit"));
    assert_ne!(cache(&gql(&app, None, "lecce", create, json!({})).await), Some("hit"));

    // A tenant that is not public: nothing is kept.
    assert_eq!(app.patch("/api/v1/tenants/lecce", Some(&root), json!({"public_read": false})).await.status, 200);
    let closed = gql(&app, None, "lecce", list, json!({"n": 10})).await;
    assert_ne!(cache(&closed), Some("hit"), "{}", closed.text);
    let again = gql(&app, None, "lecce", list, json!({"n": 10})).await;
    assert_ne!(cache(&again), Some("hit"), "{}", again.text);
}
