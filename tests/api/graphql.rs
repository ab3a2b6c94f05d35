//! GraphQL at /api/v1/t/{tenant}/graphql: the schema generated from the CIT preset, batched
//! references (counted in SQL statements), parity with REST, the tenant boundary, the limits,
//! the mutations' errors, GET caching, the IDE, and the schema checked by graphql-js.

use std::path::Path;
use std::process::Command;

use cit_tests::{Res, TestApp, spawn_app, spawn_app_with};
use serde_json::{Value, json};

const LECCE: &str = "lecce";
const GENOVA: &str = "genova";

async fn gql(app: &TestApp, tenant: &str, token: Option<&str>, query: &str, variables: Value) -> Res {
    app.post(&format!("/api/v1/t/{tenant}/graphql"), token, json!({"query": query, "variables": variables})).await
}

/// The `data` of a response that must have no errors.
fn data(res: &Res) -> &Value {
    assert_eq!(res.status, 200, "{}", res.text);
    assert!(res.body.get("errors").is_none(), "unexpected errors: {}", res.text);
    &res.body["data"]
}

/// The `extensions.code` of the first error.
fn code(res: &Res) -> &str {
    res.body["errors"][0]["extensions"]["code"].as_str().unwrap_or("")
}

/// A tenant with the CIT preset, and the platform admin's token.
async fn preset_tenant(app: &TestApp, tenant: &str) -> String {
    let admin = app.admin_token().await;
    app.create_tenant(&admin, tenant).await;
    app.apply_preset(&admin, tenant).await;
    admin
}

/// Creates a published entry through REST and returns its id.
async fn create(app: &TestApp, token: &str, tenant: &str, ty: &str, data: Value) -> String {
    let res = app
        .post(&format!("/api/v1/t/{tenant}/entries/{ty}"), Some(token), json!({"data": data, "status": "published"}))
        .await;
    assert_eq!(res.status, 201, "create {ty}: {}", res.text);
    res.body["id"].as_str().unwrap().to_owned()
}

async fn topic(app: &TestApp, token: &str, tenant: &str, title: &str) -> String {
    create(app, token, tenant, "argomento", json!({"title": title})).await
}

async fn service(app: &TestApp, token: &str, tenant: &str, title: &str, extra: Value) -> String {
    let mut data = json!({
        "title": title,
        "summary": "Un servizio.",
        "category": "open-data",
        "description": "Descrizione.",
        "how_to": "Come fare.",
        "access_channel": "online",
    });
    for (k, v) in extra.as_object().unwrap() {
        data[k] = v.clone();
    }
    create(app, token, tenant, "servizio", data).await
}

async fn news(app: &TestApp, token: &str, tenant: &str, title: &str, extra: Value) -> String {
    let mut data = json!({"title": title, "summary": "Sommario.", "body": "Il **testo**."});
    for (k, v) in extra.as_object().unwrap() {
        data[k] = v.clone();
    }
    create(app, token, tenant, "notizia", data).await
}

const LIST_WITH_REFERENCES: &str = r#"
query {
  notiziaList(first: 50) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges {
      cursor
      node {
        id title
        body { markdown html }
        argomenti { id title }
        relatedServices { title office { title } argomenti { title } }
        translations { id locale }
      }
    }
  }
}"#;

async fn statements_for(app: &TestApp, token: Option<&str>, expected: usize) -> u64 {
    let before = app.store.query_count();
    let res = gql(app, LECCE, token, LIST_WITH_REFERENCES, json!({})).await;
    let after = app.store.query_count();
    let list = &data(&res)["notiziaList"];
    assert_eq!(list["totalCount"], expected);
    let edges = list["edges"].as_array().unwrap();
    assert_eq!(edges.len(), expected);
    for e in edges {
        let node = &e["node"];
        assert_eq!(node["argomenti"].as_array().unwrap().len(), 2, "{node}");
        assert_eq!(node["relatedServices"][0]["title"], "Servizio");
        assert_eq!(node["relatedServices"][0]["office"]["title"], "Sede");
        assert_eq!(node["relatedServices"][0]["argomenti"][0]["title"], "Terzo");
        assert_eq!(node["body"]["html"], "<p>Il <strong>testo</strong>.</p>\n");
    }
    after - before
}

#[tokio::test]
async fn a_list_runs_the_same_number_of_queries_for_5_and_for_50_entries() {
    let app = spawn_app().await;
    let admin = preset_tenant(&app, LECCE).await;
    let t1 = topic(&app, &admin, LECCE, "Primo").await;
    let t2 = topic(&app, &admin, LECCE, "Secondo").await;
    let t3 = topic(&app, &admin, LECCE, "Terzo").await;
    let office =
        create(&app, &admin, LECCE, "luogo", json!({"title": "Sede", "address": "Via Rubichi 16", "city": "Lecce"}))
            .await;
    let s = service(&app, &admin, LECCE, "Servizio", json!({"office": office, "argomenti": [t3]})).await;
    let refs = json!({"argomenti": [t1, t2], "related_services": [s]});
    for i in 0..5 {
        news(&app, &admin, LECCE, &format!("Notizia {i}"), refs.clone()).await;
    }
    let anonymous_5 = statements_for(&app, None, 5).await;
    let admin_5 = statements_for(&app, Some(&admin), 5).await;
    for i in 5..50 {
        news(&app, &admin, LECCE, &format!("Notizia {i}"), refs.clone()).await;
    }
    let anonymous_50 = statements_for(&app, None, 50).await;
    let admin_50 = statements_for(&app, Some(&admin), 50).await;
    eprintln!(
        "SQL statements for a list of notizie with 3 references each, two levels deep, with translations and totalCount: \
         anonymous {anonymous_5} (5 entries) / {anonymous_50} (50 entries); logged in {admin_5} / {admin_50}"
    );
    assert_eq!(anonymous_5, anonymous_50);
    assert_eq!(admin_5, admin_50);
    // tenant, content types, count, page, then one per level: the references of the page, their
    // translations, the references of the references
    assert!(anonymous_50 <= 7, "{anonymous_50} statements");
}

/// The ids of a REST list (all pages).
async fn rest_ids(app: &TestApp, query: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/api/v1/t/{LECCE}/entries/notizia?limit=4&{query}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let res = app.get(&path, None).await;
        assert_eq!(res.status, 200, "{path}: {}", res.text);
        ids.extend(res.body["data"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_owned()));
        match res.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return ids,
        }
    }
}

/// The ids of a GraphQL list (all pages), checking totalCount on the way.
async fn graphql_ids(app: &TestApp, args: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut after = Value::Null;
    loop {
        let query = format!(
            "query($after: String) {{ notiziaList(first: 4, after: $after{args}) {{ totalCount nodes {{ id }} pageInfo {{ hasNextPage endCursor }} }} }}"
        );
        let res = gql(app, LECCE, None, &query, json!({"after": after})).await;
        let list = &data(&res)["notiziaList"];
        ids.extend(list["nodes"].as_array().unwrap().iter().map(|n| n["id"].as_str().unwrap().to_owned()));
        if list["pageInfo"]["hasNextPage"] == true {
            after = list["pageInfo"]["endCursor"].clone();
        } else {
            assert_eq!(list["totalCount"], ids.len(), "{args}");
            return ids;
        }
    }
}

#[tokio::test]
async fn graphql_and_rest_return_the_same_entries_for_the_same_filter_and_sort() {
    let app = spawn_app().await;
    let admin = preset_tenant(&app, LECCE).await;
    let spid = topic(&app, &admin, LECCE, "SPID").await;
    let pago = topic(&app, &admin, LECCE, "pagoPA").await;
    let titles = [
        "Bando digitale",
        "Avviso pubblico",
        "Corso SPID",
        "Webinar pagoPA",
        "Bando scuole",
        "Nuovo portale",
        "Corso base",
        "Avviso scadenze",
        "Open data",
        "Bando_speciale 100%",
    ];
    for (i, title) in titles.iter().enumerate() {
        let mut extra = json!({});
        if i % 3 != 0 {
            extra["reading_time"] = json!(i + 1);
        }
        if i % 2 == 0 {
            extra["argomenti"] = json!([spid]);
        } else if i % 5 == 1 {
            extra["argomenti"] = json!([pago, spid]);
        }
        news(&app, &admin, LECCE, title, extra).await;
    }
    // a draft is in neither
    app.post(&format!("/api/v1/t/{LECCE}/entries/notizia"), Some(&admin), json!({"data": {"title": "Bozza"}})).await;

    let cases: &[(&str, &str)] = &[
        ("", ""),
        ("sort=title", ", sort: [TITLE_ASC]"),
        ("sort=-reading_time,title", ", sort: [READING_TIME_DESC, TITLE_ASC]"),
        (
            "filter[reading_time][gte]=4&sort=reading_time",
            ", filter: {readingTime: {gte: 4}}, sort: [READING_TIME_ASC]",
        ),
        ("filter[reading_time][null]=true&sort=-title", ", filter: {readingTime: {isNull: true}}, sort: [TITLE_DESC]"),
        ("filter[title][contains]=bando&sort=slug", ", filter: {title: {contains: \"BANDO\"}}, sort: [SLUG_ASC]"),
        ("filter[title][starts_with]=corso", ", filter: {title: {startsWith: \"Corso\"}}"),
        (
            "filter[title][in]=Open data,Corso base&sort=title",
            ", filter: {title: {in: [\"Open data\", \"Corso base\"]}}, sort: [TITLE_ASC]",
        ),
        (
            &format!("filter[argomenti][contains]={spid}&sort=-created_at"),
            &format!(", filter: {{argomenti: {{contains: \"{spid}\"}}}}, sort: [CREATED_AT_DESC]"),
        ),
        (
            "filter[reading_time][ne]=2&filter[reading_time][lt]=9&sort=title",
            ", filter: {readingTime: {ne: 2, lt: 9}}, sort: [TITLE_ASC]",
        ),
        ("filter[published_at][gte]=2000-01-01T00:00:00Z", ", filter: {publishedAt: {gte: \"2000-01-01T00:00:00Z\"}}"),
    ];
    for (rest, graphql) in cases {
        let expected = rest_ids(&app, rest).await;
        let got = graphql_ids(&app, graphql).await;
        assert!(!expected.is_empty() || rest.contains("null"), "{rest} finds nothing");
        assert_eq!(got, expected, "REST ?{rest} vs GraphQL{graphql}");
    }
    assert_eq!(rest_ids(&app, "").await.len(), titles.len());
}

#[tokio::test]
async fn another_tenants_entries_are_unreachable() {
    let app = spawn_app().await;
    let admin = preset_tenant(&app, LECCE).await;
    app.create_tenant(&admin, GENOVA).await;
    app.apply_preset(&admin, GENOVA).await;
    let g_topic = topic(&app, &admin, GENOVA, "Solo a Genova").await;
    let g_place =
        create(&app, &admin, GENOVA, "luogo", json!({"title": "Genova", "address": "Via Garibaldi", "city": "Genova"}))
            .await;
    let g_news = news(&app, &admin, GENOVA, "Notizia di Genova", json!({"argomenti": [g_topic]})).await;
    let l_topic = topic(&app, &admin, LECCE, "A Lecce").await;
    let l_news = news(&app, &admin, LECCE, "Notizia di Lecce", json!({"argomenti": [l_topic]})).await;
    let l_service = service(&app, &admin, LECCE, "Servizio di Lecce", json!({})).await;

    // by id and by slug
    let q =
        "query($id: ID, $slug: String) { notizia(id: $id, slug: $slug, status: [DRAFT, PUBLISHED, ARCHIVED]) { id } }";
    for vars in [json!({"id": g_news}), json!({"slug": "notizia-di-genova"})] {
        let res = gql(&app, LECCE, Some(&admin), q, vars).await;
        assert_eq!(data(&res)["notizia"], Value::Null, "{}", res.text);
    }
    let res = gql(&app, LECCE, None, "query($id: ID) { argomento(id: $id) { id } }", json!({"id": g_topic})).await;
    assert_eq!(data(&res)["argomento"], Value::Null);
    // in lists and counts
    let res = gql(&app, LECCE, None, "{ notiziaList { totalCount nodes { id title } } }", json!({})).await;
    assert_eq!(data(&res)["notiziaList"]["totalCount"], 1);
    assert_eq!(data(&res)["notiziaList"]["nodes"][0]["id"], l_news.as_str());

    // a reference to another tenant's entry cannot be written…
    let res = gql(
        &app,
        LECCE,
        Some(&admin),
        "mutation($t: ID!) { createNotizia(data: {title: \"X\", argomenti: [$t]}) { id } }",
        json!({"t": g_topic}),
    )
    .await;
    assert_eq!(code(&res), "validation_failed", "{}", res.text);
    assert_eq!(res.body["errors"][0]["extensions"]["errors"][0]["field"], "data.argomenti[0]");
    assert_eq!(res.body["errors"][0]["extensions"]["errors"][0]["code"], "reference_not_found");

    // …and one planted in the database behind the API does not resolve either
    let backend = if app.db.is_postgres() { sea_orm::DbBackend::Postgres } else { sea_orm::DbBackend::Sqlite };
    let db = sea_orm::Database::connect(&app.db.url).await.unwrap();
    let plant = |id: &str, data: Value| {
        let sql = match backend {
            sea_orm::DbBackend::Postgres => r#"UPDATE "entries" SET "data" = $1 WHERE "id" = $2"#,
            _ => r#"UPDATE "entries" SET "data" = ? WHERE "id" = ?"#,
        };
        sea_orm::Statement::from_sql_and_values(
            backend,
            sql,
            [sea_orm::Value::Json(Some(Box::new(data))), sea_orm::Value::Uuid(Some(id.parse().unwrap()))],
        )
    };
    use sea_orm::ConnectionTrait;
    let planted = json!({"title": "Notizia di Lecce", "summary": "S", "body": "B", "argomenti": [g_topic, l_topic], "related_services": [g_news]});
    assert_eq!(db.execute_raw(plant(&l_news, planted)).await.unwrap().rows_affected(), 1);
    let planted = json!({"title": "Servizio di Lecce", "office": g_place, "argomenti": [g_topic]});
    assert_eq!(db.execute_raw(plant(&l_service, planted)).await.unwrap().rows_affected(), 1);
    db.close().await.ok();
    let res = gql(
        &app,
        LECCE,
        Some(&admin),
        "{ notiziaList(status: [DRAFT, PUBLISHED]) { nodes { title argomenti { id title } relatedServices { id } translations { id } } }
           servizioList { nodes { office { id } argomenti { id } } } }",
        json!({}),
    )
    .await;
    let d = data(&res);
    assert_eq!(d["notiziaList"]["nodes"][0]["argomenti"], json!([{"id": l_topic, "title": "A Lecce"}]));
    assert_eq!(d["notiziaList"]["nodes"][0]["relatedServices"], json!([]));
    assert_eq!(d["servizioList"]["nodes"][0]["office"], Value::Null);
    assert_eq!(d["servizioList"]["nodes"][0]["argomenti"], json!([]));

    // the other tenant's token is refused outright
    let (genova_token, _) = app.api_token(&admin, GENOVA, &["read", "preview"]).await;
    let res = gql(&app, LECCE, Some(&genova_token), "{ tenant { id } }", json!({})).await;
    assert_eq!(res.status, 403, "{}", res.text);
    // unknown tenants are 404, as in REST
    let res = gql(&app, "nowhere", None, "{ tenant { id } }", json!({})).await;
    assert_eq!(res.status, 404);
}

#[tokio::test]
async fn deep_wide_alias_heavy_and_oversized_queries_are_refused_with_their_code() {
    let app = spawn_app_with(|s| s.body_limit = 8 * 1024).await;
    let admin = preset_tenant(&app, LECCE).await;
    news(&app, &admin, LECCE, "Una notizia", json!({})).await;
    let refused = |res: &Res, expected: &str| {
        assert_eq!(res.status, 200, "{}", res.text);
        assert_eq!(code(res), expected, "{}", res.text);
        assert!(res.body["data"].is_null(), "a refused query runs nothing: {}", res.text);
        assert!(!res.body["errors"][0]["message"].as_str().unwrap_or("").is_empty());
    };
    // deep: a tree walked up eleven levels
    let deep = format!("{{ paginaList {{ nodes {{ {} title {} }} }} }}", "parent {".repeat(9), "}".repeat(9));
    refused(&gql(&app, LECCE, None, &deep, json!({})).await, "DEPTH_LIMIT");
    // brackets nested beyond what the parser is given
    refused(
        &gql(&app, LECCE, None, &format!("{}{}", "{a".repeat(100), "}".repeat(100)), json!({})).await,
        "DEPTH_LIMIT",
    );
    // wide: every level multiplies
    let wide = "{ notiziaList(first: 100) { nodes { argomenti { title } relatedServices { title argomenti { title } office { title } } translations { title argomenti { title } } } } }";
    refused(&gql(&app, LECCE, None, wide, json!({})).await, "COMPLEXITY_LIMIT");
    // a fragment bomb: small text, huge expansion
    let mut bomb = String::from("{ ...F0 }\n");
    for i in 0..16 {
        bomb.push_str(&format!("fragment F{i} on Query {{ ...F{n} ...F{n} }}\n", n = i + 1));
    }
    bomb.push_str("fragment F16 on Query { tenant { id name } }\n");
    refused(&gql(&app, LECCE, None, &bomb, json!({})).await, "COMPLEXITY_LIMIT");
    // alias-heavy
    let aliases: String = (0..31).map(|i| format!("a{i}: __typename ")).collect();
    refused(&gql(&app, LECCE, None, &format!("{{ {aliases} }}"), json!({})).await, "TOO_MANY_ALIASES");
    let thirty: String = (0..30).map(|i| format!("a{i}: __typename ")).collect();
    assert_eq!(data(&gql(&app, LECCE, None, &format!("{{ {thirty} }}"), json!({})).await)["a29"], "Query");
    // pages larger than 100, written out or in a variable
    refused(&gql(&app, LECCE, None, "{ notiziaList(first: 101) { totalCount } }", json!({})).await, "FIRST_TOO_LARGE");
    let q = "query($n: Int) { notiziaList(first: $n) { totalCount } }";
    refused(&gql(&app, LECCE, None, q, json!({"n": 1000})).await, "FIRST_TOO_LARGE");
    assert_eq!(data(&gql(&app, LECCE, None, q, json!({"n": 100})).await)["notiziaList"]["totalCount"], 1);
    // oversized: the JSON body limit applies as everywhere
    let big = format!("{{ tenant {{ id }} }} # {}", "x".repeat(9000));
    let res = gql(&app, LECCE, None, &big, json!({})).await;
    assert_eq!(res.status, 413);
    assert_eq!(res.code(), "payload_too_large");
    // broken and invalid documents
    refused(&gql(&app, LECCE, None, "{ notiziaList {", json!({})).await, "GRAPHQL_PARSE_FAILED");
    refused(&gql(&app, LECCE, None, "{ notiziaList { nope } }", json!({})).await, "GRAPHQL_VALIDATION_FAILED");
    // batches are capped too
    let batch: Vec<Value> = (0..11).map(|_| json!({"query": "{ tenant { id } }"})).collect();
    let res = app.post(&format!("/api/v1/t/{LECCE}/graphql"), None, Value::Array(batch)).await;
    assert_eq!(res.status, 400);
    let batch: Vec<Value> = (0..2).map(|_| json!({"query": "{ tenant { id } }"})).collect();
    let res = app.post(&format!("/api/v1/t/{LECCE}/graphql"), None, Value::Array(batch)).await;
    assert_eq!(res.body[1]["data"]["tenant"]["id"], LECCE, "{}", res.text);
}

#[tokio::test]
async fn mutations_validate_and_fail_like_rest() {
    let app = spawn_app().await;
    let admin = preset_tenant(&app, LECCE).await;
    let author = app.member(&admin, LECCE, "autrice@lecce.it", "author").await;
    let editor = app.member(&admin, LECCE, "redattore@lecce.it", "editor").await;
    let create = "mutation($data: NotiziaInput!, $status: EntryStatus) {
        createNotizia(data: $data, status: $status) { id status revision title readingTime publishedAt }
    }";

    // nobody: 401-like
    let res = gql(&app, LECCE, None, create, json!({"data": {"title": "Anonima"}})).await;
    assert_eq!(code(&res), "unauthenticated", "{}", res.text);
    assert_eq!(res.body["errors"][0]["extensions"]["status"], 401);
    // an author writes drafts, and may not publish
    let res = gql(&app, LECCE, Some(&author), create, json!({"data": {"title": "Bozza", "readingTime": 3}})).await;
    let draft = data(&res)["createNotizia"].clone();
    assert_eq!(draft["status"], "DRAFT");
    assert_eq!(draft["readingTime"], 3);
    let id = draft["id"].as_str().unwrap().to_owned();
    let publish =
        "mutation($id: ID!, $rev: Int) { publishNotizia(id: $id, revision: $rev) { status revision publishedAt } }";
    let res = gql(&app, LECCE, Some(&author), publish, json!({"id": id})).await;
    assert_eq!(code(&res), "forbidden", "{}", res.text);

    // the same invalid data gets the same codes from REST and GraphQL
    let bad_rest = json!({"title": "T", "reading_time": 0});
    let bad_gql = json!({"title": "T", "readingTime": 0});
    let rest = app
        .post(
            &format!("/api/v1/t/{LECCE}/entries/notizia"),
            Some(&editor),
            json!({"data": bad_rest, "status": "published"}),
        )
        .await;
    assert_eq!(rest.status, 422);
    let res = gql(&app, LECCE, Some(&editor), create, json!({"data": bad_gql, "status": "PUBLISHED"})).await;
    assert_eq!(code(&res), "validation_failed", "{}", res.text);
    let errors: Vec<(String, String)> = res.body["errors"][0]["extensions"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap().to_owned(), e["code"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(
        errors,
        [
            ("data.summary".to_owned(), "required".to_owned()),
            ("data.body".to_owned(), "required".to_owned()),
            ("data.readingTime".to_owned(), "too_small".to_owned()),
        ]
    );
    let rest_errors: Vec<(String, String)> = rest.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().replace("reading_time", "readingTime"),
                e["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(rest_errors, errors);
    // nothing was written
    let res =
        gql(&app, LECCE, Some(&editor), "{ notiziaList(status: [DRAFT, PUBLISHED]) { totalCount } }", json!({})).await;
    assert_eq!(data(&res)["notiziaList"]["totalCount"], 1);

    // a stale revision is refused; the current one publishes once the data is complete
    let update = "mutation($id: ID!, $data: NotiziaInput, $rev: Int) { updateNotizia(id: $id, data: $data, revision: $rev) { revision summary } }";
    let res =
        gql(&app, LECCE, Some(&author), update, json!({"id": id, "data": {"summary": "S", "body": "B"}, "rev": 1}))
            .await;
    assert_eq!(data(&res)["updateNotizia"]["revision"], 2);
    let res = gql(&app, LECCE, Some(&editor), publish, json!({"id": id, "rev": 1})).await;
    assert_eq!(code(&res), "stale", "{}", res.text);
    let res = gql(&app, LECCE, Some(&editor), publish, json!({"id": id, "rev": 2})).await;
    assert_eq!(data(&res)["publishNotizia"]["status"], "PUBLISHED");
    assert!(data(&res)["publishNotizia"]["publishedAt"].is_string());
    // null clears a field; a published entry needs the right to publish to change
    let res = gql(&app, LECCE, Some(&author), update, json!({"id": id, "data": {"readingTime": null}})).await;
    assert_eq!(code(&res), "forbidden", "{}", res.text);
    let res = gql(&app, LECCE, Some(&editor), update, json!({"id": id, "data": {"readingTime": null}})).await;
    data(&res);
    let rest = app.get(&format!("/api/v1/t/{LECCE}/entries/notizia/{id}"), None).await;
    assert_eq!(rest.body["data"]["reading_time"], Value::Null);
    assert_eq!(rest.body["status"], "published");
    // unpublish, then it is gone for the public
    let unpublish = "mutation($id: ID!) { unpublishNotizia(id: $id) { status } }";
    assert_eq!(
        data(&gql(&app, LECCE, Some(&editor), unpublish, json!({"id": id})).await)["unpublishNotizia"]["status"],
        "DRAFT"
    );
    let one = "query($id: ID) { notizia(id: $id) { id } }";
    assert_eq!(data(&gql(&app, LECCE, None, one, json!({"id": id})).await)["notizia"], Value::Null);

    // enums are written as GraphQL names and stored as the content type spells them
    let res = gql(
        &app,
        LECCE,
        Some(&editor),
        "mutation { createServizio(status: PUBLISHED, data: {title: \"Anagrafe\", summary: \"S\", category: ANAGRAFE_E_STATO_CIVILE, description: \"D\", howTo: \"H\", accessChannel: ENTRAMBI, audience: [\"Comuni\", \" Comuni \"]}) { id category serviceStatus audience } }",
        json!({}),
    )
    .await;
    let s = &data(&res)["createServizio"];
    assert_eq!(s["category"], "ANAGRAFE_E_STATO_CIVILE");
    assert_eq!(s["serviceStatus"], "ATTIVO");
    assert_eq!(s["audience"], json!(["Comuni"]));
    let rest = app.get(&format!("/api/v1/t/{LECCE}/entries/servizio/{}", s["id"].as_str().unwrap()), None).await;
    assert_eq!(rest.body["data"]["category"], "anagrafe-e-stato-civile");
    assert_eq!(rest.body["data"]["access_channel"], "entrambi");

    // a value taken by a unique field is refused as in REST
    let topic = "mutation { createArgomento(data: {title: \"SPID\"}) { id } }";
    data(&gql(&app, LECCE, Some(&editor), topic, json!({})).await);
    let res = gql(&app, LECCE, Some(&editor), topic, json!({})).await;
    assert_eq!(code(&res), "validation_failed", "{}", res.text);
    assert_eq!(res.body["errors"][0]["extensions"]["errors"][0]["field"], "data.title");
    assert_eq!(res.body["errors"][0]["extensions"]["errors"][0]["code"], "not_unique");

    // delete: editors only; then not found
    let delete = "mutation($id: ID!) { deleteNotizia(id: $id) }";
    assert_eq!(code(&gql(&app, LECCE, Some(&author), delete, json!({"id": id})).await), "forbidden");
    assert_eq!(data(&gql(&app, LECCE, Some(&editor), delete, json!({"id": id})).await)["deleteNotizia"], id.as_str());
    let res = gql(&app, LECCE, Some(&editor), delete, json!({"id": id})).await;
    assert_eq!(code(&res), "not_found");
    assert_eq!(res.body["errors"][0]["extensions"]["status"], 404);
}

#[tokio::test]
async fn drafts_revisions_and_translations_follow_the_callers_rights() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let res = app
        .post("/api/v1/tenants", Some(&admin), json!({"id": LECCE, "name": "CIT Lecce", "locales": ["it", "en"]}))
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    app.apply_preset(&admin, LECCE).await;
    let it = news(&app, &admin, LECCE, "Notizia", json!({})).await;
    let res = app
        .post(
            &format!("/api/v1/t/{LECCE}/entries/notizia"),
            Some(&admin),
            json!({"data": {"title": "News"}, "locale": "en", "translation_of": it}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let en = res.body["id"].as_str().unwrap().to_owned();
    let (preview, _) = app.api_token(&admin, LECCE, &["preview"]).await;

    let q = "query($s: [EntryStatus!]) { notiziaList(status: $s) { nodes { title translations { title locale status } } } }";
    // the public sees the published Italian entry, without its draft translation
    let res = gql(&app, LECCE, None, q, json!({})).await;
    assert_eq!(data(&res)["notiziaList"]["nodes"], json!([{"title": "Notizia", "translations": []}]));
    // drafts need a preview token
    let res = gql(&app, LECCE, None, q, json!({"s": ["DRAFT"]})).await;
    assert_eq!(code(&res), "unauthenticated");
    let res = gql(&app, LECCE, Some(&preview), q, json!({"s": ["PUBLISHED", "DRAFT"]})).await;
    assert_eq!(
        data(&res)["notiziaList"]["nodes"][0]["translations"],
        json!([{"title": "News", "locale": "en", "status": "DRAFT"}])
    );
    // by slug in a locale
    let res = gql(
        &app,
        LECCE,
        Some(&preview),
        "{ notizia(slug: \"news\", locale: \"en\", status: [DRAFT]) { id } }",
        json!({}),
    )
    .await;
    assert_eq!(data(&res)["notizia"]["id"], en.as_str());
    let res = gql(&app, LECCE, None, "{ notizia(slug: \"notizia\", locale: \"fr\") { id } }", json!({})).await;
    assert_eq!(code(&res), "invalid_query");

    // revisions: for those who may read drafts
    let rq = "query($id: ID) { notizia(id: $id) { revisions { revision status note data } } }";
    let res = gql(&app, LECCE, None, rq, json!({"id": it})).await;
    assert_eq!(code(&res), "unauthenticated", "{}", res.text);
    let res = gql(&app, LECCE, Some(&preview), rq, json!({"id": it})).await;
    let revs = &data(&res)["notizia"]["revisions"];
    assert_eq!(revs[0]["revision"], 1);
    assert_eq!(revs[0]["status"], "PUBLISHED");
    assert_eq!(revs[0]["data"]["title"], "Notizia");
}

#[tokio::test]
async fn the_schema_follows_content_type_changes_without_a_restart() {
    let app = spawn_app().await;
    let admin = preset_tenant(&app, LECCE).await;
    let q = "{ argomentoList { nodes { title icon } } }";
    let res = gql(&app, LECCE, None, q, json!({})).await;
    assert_eq!(code(&res), "GRAPHQL_VALIDATION_FAILED");
    let mut def = app.get(&format!("/api/v1/t/{LECCE}/content-types/argomento"), None).await.body["definition"].clone();
    assert!(def.is_object(), "{def}");
    def["fields"].as_array_mut().unwrap().push(json!({"name": "icon", "kind": "string", "label": "Icona"}));
    let res = app.put(&format!("/api/v1/t/{LECCE}/content-types/argomento"), Some(&admin), def).await;
    assert_eq!(res.status, 200, "{}", res.text);
    topic(&app, &admin, LECCE, "Con icona").await;
    let res = gql(&app, LECCE, None, q, json!({})).await;
    assert_eq!(data(&res)["argomentoList"]["nodes"], json!([{"title": "Con icona", "icon": null}]));
    // a new type too
    let res = app
        .put(
            &format!("/api/v1/t/{LECCE}/content-types/faq"),
            Some(&admin),
            json!({"singular": "FAQ", "plural": "FAQ", "fields": [{"name": "title", "kind": "string", "label": "Domanda"}]}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let res = gql(&app, LECCE, None, "{ faqList { totalCount } }", json!({})).await;
    assert_eq!(data(&res)["faqList"]["totalCount"], 0);
}

#[tokio::test]
async fn get_answers_queries_with_etags_and_refuses_mutations() {
    let app = spawn_app().await;
    let admin = preset_tenant(&app, LECCE).await;
    news(&app, &admin, LECCE, "Notizia", json!({})).await;
    let url = |query: &str, vars: &str| {
        format!(
            "{}?query={}&variables={}",
            app.url(&format!("/api/v1/t/{LECCE}/graphql")),
            urlencode(query),
            urlencode(vars)
        )
    };
    let q = "query($n: Int) { notiziaList(first: $n) { nodes { title } } }";
    let res = cit_tests::read(app.client.get(url(q, r#"{"n": 5}"#)).send().await.unwrap()).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(data(&res)["notiziaList"]["nodes"][0]["title"], "Notizia");
    let etag = res.header("etag").unwrap().to_owned();
    assert!(etag.starts_with('"'), "a strong ETag: {etag}");
    assert_eq!(res.header("cache-control"), Some("public, no-cache"));
    let again = app.client.get(url(q, r#"{"n": 5}"#)).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(again.status(), 304);
    // drafts are for the client only
    let (preview, _) = app.api_token(&admin, LECCE, &["preview"]).await;
    let res = cit_tests::read(
        app.client
            .get(url("{ notiziaList(status: [DRAFT]) { totalCount } }", ""))
            .bearer_auth(&preview)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(res.header("cache-control"), Some("private, no-cache"), "{}", res.text);
    // mutations need POST
    let res =
        cit_tests::read(app.client.get(url("mutation { deleteNotizia(id: \"x\") }", "")).send().await.unwrap()).await;
    assert_eq!(res.status, 405);
    assert_eq!(code(&res), "METHOD_NOT_ALLOWED");
    // a GET without a query, not from a browser
    let res = app.get(&format!("/api/v1/t/{LECCE}/graphql"), None).await;
    assert_eq!(res.status, 400);
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn the_ide_is_served_by_cit_alone() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    app.create_tenant(&admin, LECCE).await;
    let page = app
        .client
        .get(app.url(&format!("/api/v1/t/{LECCE}/graphql")))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("default-src 'self'"), "{csp}");
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"data-endpoint="/api/v1/t/lecce/graphql""#), "{html}");
    let mut assets = 0;
    for attr in ["src=\"", "href=\""] {
        for part in html.split(attr).skip(1) {
            let link = part.split('"').next().unwrap();
            assert!(link.starts_with("/api/v1/graphiql/"), "only cit's own files: {link}");
            let res = app.client.get(app.url(link)).send().await.unwrap();
            assert_eq!(res.status(), 200, "{link}");
            assert!(res.headers().contains_key("etag"));
            let body = res.text().await.unwrap();
            for cdn in [
                "//unpkg.com",
                "//cdn.jsdelivr.net",
                "//cdnjs.cloudflare.com",
                "//fonts.googleapis.com",
                "//fonts.gstatic.com",
            ] {
                assert!(!body.contains(cdn), "{link} mentions {cdn}");
            }
            assets += 1;
        }
    }
    assert_eq!(assets, 5);
    assert_eq!(app.get("/api/v1/graphiql/LICENSE-graphiql", None).await.status, 200);
    assert_eq!(app.get("/api/v1/graphiql/../Cargo.toml", None).await.status, 404);
    assert_eq!(app.get("/api/v1/graphiql/nope.js", None).await.status, 404);
    let res = app.client.get(app.url("/api/v1/t/nowhere/graphql")).header("accept", "text/html").send().await.unwrap();
    assert_eq!(res.status(), 404);
}

fn repo_root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// The SDL of the CIT preset, as `cit graphql-sdl` prints it.
fn preset_sdl() -> String {
    let text = std::fs::read_to_string(repo_root().join("schema/presets/cit.toml")).unwrap();
    let types = cit_core::content::SchemaFile::parse_toml(&text).unwrap().content_types().unwrap();
    cit_api::graphql::sdl(&types).unwrap()
}

#[test]
fn schema_graphql_is_the_sdl_of_the_preset() {
    let committed = std::fs::read_to_string(repo_root().join("schema/schema.graphql")).unwrap();
    assert!(
        committed == preset_sdl(),
        "schema/schema.graphql is stale: run `cargo run -q -p cit -- graphql-sdl > schema/schema.graphql`"
    );
}

/// `node tests/graphql-js/check.mjs ARGS`, or None when there is no node.
fn graphql_js(args: &[&str]) -> Option<std::process::Output> {
    if Command::new("node").arg("--version").output().is_err() {
        eprintln!("SKIPPED: `node` is not installed, so the schema was not checked with graphql-js");
        return None;
    }
    let dir = repo_root().join("tests/graphql-js");
    assert!(
        dir.join("node_modules/graphql").exists(),
        "graphql-js is missing: run `npm ci --prefix tests/graphql-js` (CI does it in .ci/run)"
    );
    Some(Command::new("node").arg(dir.join("check.mjs")).args(args).output().unwrap())
}

#[tokio::test]
async fn introspection_gives_a_schema_that_graphql_js_accepts() {
    let Some(query) = graphql_js(&["--introspection-query"]) else { return };
    assert!(query.status.success(), "{}", String::from_utf8_lossy(&query.stderr));
    let query = String::from_utf8(query.stdout).unwrap();
    let app = spawn_app().await;
    preset_tenant(&app, LECCE).await;
    let res = gql(&app, LECCE, None, &query, json!({})).await;
    let types = data(&res)["__schema"]["types"].as_array().unwrap();
    assert!(types.iter().any(|t| t["name"] == "Notizia"));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("introspection.json");
    std::fs::write(&file, &res.text).unwrap();
    let out = graphql_js(&[file.to_str().unwrap()]).unwrap();
    assert!(
        out.status.success(),
        "graphql-js refused the introspection result:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{}", String::from_utf8_lossy(&out.stdout).trim());
    // and the committed SDL
    let sdl = repo_root().join("schema/schema.graphql");
    let out = graphql_js(&[sdl.to_str().unwrap()]).unwrap();
    assert!(
        out.status.success(),
        "graphql-js refused schema/schema.graphql:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn connections_page_with_cursors_and_read_every_kind_of_field() {
    let app = spawn_app().await;
    let admin = preset_tenant(&app, LECCE).await;
    let ente = create(
        &app,
        &admin,
        LECCE,
        "ente",
        json!({"title": "Comune di Lecce", "kind": "comune", "istat_code": "075035", "population": 95000, "location": {"lat": 40.35, "lon": 18.17}, "website": "https://www.comune.lecce.it"}),
    )
    .await;
    create(
        &app,
        &admin,
        LECCE,
        "progetto",
        json!({"title": "Progetto CIT", "summary": "S", "project_status": "in-corso", "progress": 40, "budget": 1250000.5, "start_date": "2020-01-15", "partners": [ente]}),
    )
    .await;
    let res = gql(
        &app,
        LECCE,
        None,
        "{ enteList { nodes { title kind role population location { lat lon } website istatCode } }
           progettoList(filter: {startDate: {gte: \"2020-01-01\"}, projectStatus: {in: [IN_CORSO, CONCLUSO]}, budget: {gt: 1000}}) {
             totalCount nodes { projectStatus progress budget startDate partners { title } } } }",
        json!({}),
    )
    .await;
    let d = data(&res);
    assert_eq!(
        d["enteList"]["nodes"][0],
        json!({"title": "Comune di Lecce", "kind": "COMUNE", "role": "ADERENTE", "population": 95000, "location": {"lat": 40.35, "lon": 18.17}, "website": "https://www.comune.lecce.it", "istatCode": "075035"})
    );
    assert_eq!(
        d["progettoList"]["nodes"][0],
        json!({"projectStatus": "IN_CORSO", "progress": 40, "budget": 1250000.5, "startDate": "2020-01-15", "partners": [{"title": "Comune di Lecce"}]})
    );
    // pages
    for i in 0..5 {
        topic(&app, &admin, LECCE, &format!("Argomento {i}")).await;
    }
    let q = "query($after: String) { argomentoList(first: 2, after: $after, sort: [TITLE_DESC]) { edges { cursor node { title } } pageInfo { hasNextPage endCursor } } }";
    let mut titles = Vec::new();
    let mut after = Value::Null;
    loop {
        let res = gql(&app, LECCE, None, q, json!({"after": after})).await;
        let list = &data(&res)["argomentoList"];
        let edges = list["edges"].as_array().unwrap();
        titles.extend(edges.iter().map(|e| e["node"]["title"].as_str().unwrap().to_owned()));
        assert_eq!(list["pageInfo"]["endCursor"], edges.last().unwrap()["cursor"]);
        if list["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = list["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(titles, ["Argomento 4", "Argomento 3", "Argomento 2", "Argomento 1", "Argomento 0"]);
    // first: 0 answers only whether there is anything
    let res = gql(
        &app,
        LECCE,
        None,
        "{ argomentoList(first: 0) { totalCount nodes { title } pageInfo { hasNextPage } } }",
        json!({}),
    )
    .await;
    assert_eq!(data(&res)["argomentoList"], json!({"totalCount": 5, "nodes": [], "pageInfo": {"hasNextPage": true}}));
    // a cursor of another sort is refused
    let res = gql(
        &app,
        LECCE,
        None,
        "query($a: String) { argomentoList(after: $a) { nodes { title } } }",
        json!({"a": after}),
    )
    .await;
    assert_eq!(code(&res), "invalid_query", "{}", res.text);
}

const SEARCH: &str = r#"
query($q: String!, $types: [String!], $topic: ID, $status: [EntryStatus!], $limit: Int) {
  search(q: $q, types: $types, topic: $topic, status: $status, limit: $limit) {
    total
    hits {
      id type slug status title snippet score
      entry {
        __typename
        ... on Servizio { summary argomenti { title } }
        ... on Notizia { summary }
      }
    }
    facets { types { value count } topics { value title count } }
  }
}"#;

#[tokio::test]
async fn search_answers_like_rest_with_typed_entries_and_the_same_boundaries() {
    let app = spawn_app().await;
    let admin = preset_tenant(&app, LECCE).await;
    preset_tenant(&app, GENOVA).await;
    let t = topic(&app, &admin, LECCE, "Transizione digitale").await;
    let s = service(
        &app,
        &admin,
        LECCE,
        "Supporto al RTD",
        json!({"summary": "Un servizio di digitalizzazione dei procedimenti.", "argomenti": [t]}),
    )
    .await;
    news(&app, &admin, LECCE, "Biciclette in comune", json!({"summary": "La bicicletta elettrica"})).await;
    news(&app, &admin, GENOVA, "Servizi digitali a Genova", json!({})).await;
    let draft = app
        .post("/api/v1/t/lecce/entries/notizia", Some(&admin), json!({"data": {"title": "Bozza: servizi digitali"}}))
        .await;
    assert_eq!(draft.status, 201, "{}", draft.text);

    // "servizi digitali" finds "servizio di digitalizzazione"; the draft and Genova stay out.
    let res = gql(&app, LECCE, None, SEARCH, json!({"q": "servizi digitali"})).await;
    let found = &data(&res)["search"];
    assert_eq!(found["total"], 1, "{found}");
    let hit = &found["hits"][0];
    assert_eq!(hit["id"], s.as_str());
    assert_eq!((hit["type"].as_str(), hit["status"].as_str()), (Some("servizio"), Some("PUBLISHED")));
    assert!(hit["snippet"].as_str().unwrap().contains("<mark>digitalizzazione</mark>"), "{hit}");
    assert_eq!(hit["entry"]["__typename"], "Servizio");
    assert_eq!(hit["entry"]["argomenti"][0]["title"], "Transizione digitale");
    assert_eq!(found["facets"]["types"], json!([{"value": "servizio", "count": 1}]));
    assert_eq!(found["facets"]["topics"], json!([{"value": t, "title": "Transizione digitale", "count": 1}]));

    // The same hits, order and facets as REST.
    let rest = app.get("/api/v1/t/lecce/search?q=servizi%20digitali", None).await;
    assert_eq!(rest.body["data"][0]["id"], hit["id"]);
    assert_eq!(rest.body["data"][0]["snippet"], hit["snippet"]);
    assert_eq!(rest.body["total"], found["total"]);

    // Filters by type and topic.
    let typed = gql(&app, LECCE, None, SEARCH, json!({"q": "bicicletta", "types": ["notizia"]})).await;
    assert_eq!(data(&typed)["search"]["hits"][0]["entry"]["__typename"], "Notizia");
    let other_type = gql(&app, LECCE, None, SEARCH, json!({"q": "bicicletta", "types": ["servizio"]})).await;
    assert_eq!(data(&other_type)["search"]["total"], 0);
    let by_topic = gql(&app, LECCE, None, SEARCH, json!({"q": "servizio", "topic": t})).await;
    assert_eq!(data(&by_topic)["search"]["total"], 1);

    // Drafts only for those who may see them.
    let anon = gql(&app, LECCE, None, SEARCH, json!({"q": "bozza", "status": ["DRAFT"]})).await;
    assert_eq!(code(&anon), "unauthenticated", "{}", anon.text);
    let editor = gql(&app, LECCE, Some(&admin), SEARCH, json!({"q": "bozza", "status": ["DRAFT"]})).await;
    let drafts = &data(&editor)["search"];
    assert_eq!(drafts["hits"][0]["status"], "DRAFT");
    assert_eq!(drafts["hits"][0]["entry"]["__typename"], "Notizia");

    // Hostile input answers with results or a clear error, never an internal one.
    let long = "servizi ".repeat(60);
    for q in ["\"", "NOT", "e-bike", "servizi OR", "*", "(", long.as_str(), ""] {
        let res = gql(&app, LECCE, None, SEARCH, json!({"q": q})).await;
        assert_eq!(res.status, 200, "{q}: {}", res.text);
        if let Some(errors) = res.body.get("errors") {
            assert_eq!(code(&res), "invalid_query", "{q}: {errors}");
            assert!(errors[0]["message"].as_str().unwrap().starts_with("q: "), "{q}: {errors}");
        } else {
            assert!(res.body["data"]["search"]["total"].is_u64(), "{q}: {}", res.text);
        }
    }
    for limit in [0, 51] {
        let res = gql(&app, LECCE, None, SEARCH, json!({"q": "servizi", "limit": limit})).await;
        assert_eq!(code(&res), "invalid_query", "{}", res.text);
    }
    let bad_topic = gql(&app, LECCE, None, SEARCH, json!({"q": "servizi", "topic": "not-an-id"})).await;
    assert_eq!(code(&bad_topic), "invalid_query", "{}", bad_topic.text);
}
