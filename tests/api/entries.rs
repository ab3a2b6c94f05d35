//! Entries over REST: slugs, lists, scheduling, revisions, drafts, caching, translations.

use chrono::{Duration, Utc};
use cit_tests::{TestApp, spawn_app};
use serde_json::{Value, json};

use crate::content::with_types;

async fn create(app: &TestApp, token: &str, ty: &str, body: Value) -> Value {
    let res = app.post(&format!("/api/v1/t/lecce/entries/{ty}"), Some(token), body).await;
    assert_eq!(res.status, 201, "{}", res.text);
    res.body
}

fn titles(res: &Value) -> Vec<String> {
    res["data"].as_array().unwrap().iter().map(|e| e["data"]["title"].as_str().unwrap_or("").to_owned()).collect()
}

#[tokio::test]
async fn slugs_fold_accents_and_are_unique_per_tenant_type_and_locale() {
    let app = spawn_app().await;
    let root = with_types(&app).await;
    app.create_tenant(&root, "genova").await;
    app.put("/api/v1/t/genova/content-types/tema", Some(&root), crate::content::tema()).await;

    let a = create(&app, &root, "tema", json!({"data": {"title": "Attività produttive e Città"}})).await;
    assert_eq!(a["slug"], "attivita-produttive-e-citta");
    let b = create(&app, &root, "tema", json!({"data": {"title": "Attività produttive e Città"}})).await;
    assert_eq!(b["slug"], "attivita-produttive-e-citta-2", "a derived slug moves aside");

    let explicit = app
        .post(
            "/api/v1/t/lecce/entries/tema",
            Some(&root),
            json!({"data": {"title": "X"}, "slug": "attivita-produttive-e-citta"}),
        )
        .await;
    assert_eq!(explicit.status, 409, "an explicit slug twice in one tenant is a conflict");
    assert_eq!(explicit.field(), "slug");
    let genova = app
        .post(
            "/api/v1/t/genova/entries/tema",
            Some(&root),
            json!({"data": {"title": "X"}, "slug": "attivita-produttive-e-citta"}),
        )
        .await;
    assert_eq!(genova.status, 201, "the same slug in another tenant is fine");
    let bad = app
        .post("/api/v1/t/lecce/entries/tema", Some(&root), json!({"data": {"title": "X"}, "slug": "Non Valido"}))
        .await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.field(), "slug");
    let id = b["id"].as_str().unwrap();
    let clash = app
        .patch(
            &format!("/api/v1/t/lecce/entries/tema/{id}"),
            Some(&root),
            json!({"slug": "attivita-produttive-e-citta"}),
        )
        .await;
    assert_eq!(clash.status, 409);

    // By slug and by id, published only for the public.
    app.patch(
        &format!("/api/v1/t/lecce/entries/tema/{}", a["id"].as_str().unwrap()),
        Some(&root),
        json!({"status": "published"}),
    )
    .await;
    assert_eq!(app.get("/api/v1/t/lecce/entries/tema/attivita-produttive-e-citta", None).await.status, 200);
    assert_eq!(app.get(&format!("/api/v1/t/lecce/entries/tema/{}", a["id"].as_str().unwrap()), None).await.status, 200);
    assert_eq!(
        app.get("/api/v1/t/genova/entries/tema/attivita-produttive-e-citta", None).await.status,
        404,
        "genova's is a draft"
    );
}

async fn seed_list(app: &TestApp, root: &str) {
    for (title, count, level, price) in [
        ("Alfa", 3, "base", 10.0),
        ("Bravo", 1, "avanzato", 2.5),
        ("Charlie", 7, "base", 99.9),
        ("Delta", 0, "avanzato", 10.0),
        ("Echo", 5, "base", 0.0),
    ] {
        create(app, root, "prova", json!({"data": {"title": title, "count": count, "level": level, "price": price, "tags": [level]}, "status": "published"})).await;
    }
    create(app, root, "prova", json!({"data": {"title": "Foxtrot"}, "status": "published"})).await;
    create(app, root, "prova", json!({"data": {"title": "Golf bozza", "count": 4}})).await;
}

#[tokio::test]
async fn filters_and_sorts_return_exactly_the_right_rows() {
    let app = spawn_app().await;
    let root = with_types(&app).await;
    seed_list(&app, &root).await;
    let q = |query: &str| {
        let app = &app;
        let query = query.to_owned();
        async move {
            let res = app.get(&format!("/api/v1/t/lecce/entries/prova?{query}"), None).await;
            assert_eq!(res.status, 200, "{query}: {}", res.text);
            titles(&res.body)
        }
    };
    assert_eq!(
        q("sort=title").await,
        ["Alfa", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot"],
        "drafts are not public"
    );
    assert_eq!(q("sort=-title").await, ["Foxtrot", "Echo", "Delta", "Charlie", "Bravo", "Alfa"]);
    assert_eq!(q("sort=count,title").await, ["Delta", "Bravo", "Alfa", "Echo", "Charlie", "Foxtrot"], "nulls last");
    assert_eq!(
        q("sort=-count,title").await,
        ["Charlie", "Echo", "Alfa", "Bravo", "Delta", "Foxtrot"],
        "nulls last either way"
    );
    assert_eq!(q("sort=price,title").await, ["Echo", "Bravo", "Alfa", "Delta", "Charlie", "Foxtrot"]);
    assert_eq!(q("filter[level][eq]=base&sort=title").await, ["Alfa", "Charlie", "Echo"]);
    assert_eq!(
        q("filter[level][ne]=base&sort=title").await,
        ["Bravo", "Delta", "Foxtrot"],
        "ne includes missing values"
    );
    assert_eq!(q("filter[count][gt]=3&sort=title").await, ["Charlie", "Echo"]);
    assert_eq!(q("filter[count][gte]=3&filter[count][lt]=7&sort=title").await, ["Alfa", "Echo"]);
    assert_eq!(q("filter[count][lte]=1&sort=title").await, ["Bravo", "Delta"]);
    assert_eq!(q("filter[price][eq]=10&sort=title").await, ["Alfa", "Delta"]);
    assert_eq!(q("filter[title][in]=Alfa,Echo,Zulu&sort=title").await, ["Alfa", "Echo"]);
    assert_eq!(q("filter[title][contains]=LT&sort=title").await, ["Delta"], "contains ignores case");
    assert_eq!(q("filter[title][starts_with]=ch").await, ["Charlie"]);
    assert_eq!(q("filter[title][contains]=%25&sort=title").await, Vec::<String>::new(), "% is literal");
    assert_eq!(q("filter[count][null]=true").await, ["Foxtrot"]);
    assert_eq!(q("filter[count][null]=false&filter[level][eq]=avanzato&sort=title").await, ["Bravo", "Delta"]);
    assert_eq!(q("filter[tags][contains]=avanzato&sort=title").await, ["Bravo", "Delta"]);
    assert_eq!(q("filter[slug][eq]=echo").await, ["Echo"]);
    assert_eq!(q("filter[active][eq]=true&filter[level][eq]=avanzato&sort=title").await, ["Bravo", "Delta"]);
    assert_eq!(q("filter[active][eq]=false").await, Vec::<String>::new());

    let drafts = app.get("/api/v1/t/lecce/entries/prova?status=draft", Some(&root)).await;
    assert_eq!(titles(&drafts.body), ["Golf bozza"]);
    let sparse = app.get("/api/v1/t/lecce/entries/prova?filter[slug][eq]=alfa&fields=title", None).await;
    assert_eq!(sparse.body["data"][0]["data"], json!({"title": "Alfa"}));

    for bad in [
        "filter[nope][eq]=1",
        "filter[count][eq]=many",
        "filter[count][contains]=1",
        "filter[title][bogus]=1",
        "filter[geo][eq]=1",
        "sort=nope",
        "sort=tags",
        "limit=0",
        "limit=101",
        "cursor=garbage",
        "status=deleted",
        "unknown=1",
        "locale=xx",
    ] {
        let res = app.get(&format!("/api/v1/t/lecce/entries/prova?{bad}"), None).await;
        assert_eq!(res.status, 400, "{bad}: {}", res.text);
        assert_eq!(res.code(), "invalid_query", "{bad}");
    }
}

#[tokio::test]
async fn cursors_page_through_every_row_once_and_stay_stable_while_entries_are_added() {
    let app = spawn_app().await;
    let root = with_types(&app).await;
    for i in 0..25 {
        create(
            &app,
            &root,
            "prova",
            json!({"data": {"title": format!("Voce {i:02}"), "count": i % 4}, "status": "published"}),
        )
        .await;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut path = "/api/v1/t/lecce/entries/prova?sort=count,-title&limit=4".to_owned();
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let res = app.get(&path, None).await;
        assert_eq!(res.status, 200, "{}", res.text);
        seen.extend(titles(&res.body));
        pages += 1;
        if pages == 2 {
            // New entries, both before and after the cursor in this order, while paging.
            create(&app, &root, "prova", json!({"data": {"title": "Voce 99", "count": 0}, "status": "published"}))
                .await;
            create(&app, &root, "prova", json!({"data": {"title": "Voce 98", "count": 3}, "status": "published"}))
                .await;
        }
        match res.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let mut expected: Vec<(i64, String)> = (0..25).map(|i| (i % 4, format!("Voce {i:02}"))).collect();
    expected.push((3, "Voce 98".into()));
    expected.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    let expected: Vec<String> = expected.into_iter().map(|e| e.1).filter(|t| t != "Voce 99").collect();
    assert_eq!(seen, expected, "no row twice, none skipped; the one inserted before the cursor is not seen");

    let first = app.get("/api/v1/t/lecce/entries/prova?sort=title&limit=2", None).await;
    let c = first.body["next_cursor"].as_str().unwrap();
    let mismatch = app.get(&format!("/api/v1/t/lecce/entries/prova?sort=-count&cursor={c}"), None).await;
    assert_eq!(mismatch.status, 400, "a cursor belongs to its sort");
}

#[tokio::test]
async fn a_scheduled_entry_is_published_at_its_time_once_across_a_restart() {
    let mut app = spawn_app().await;
    let root = with_types(&app).await;
    let at = Utc::now() + Duration::hours(2);
    let res = app
        .post(
            "/api/v1/t/lecce/entries/tema",
            Some(&root),
            json!({"data": {"title": "Webinar CIT Lecce #2"}, "publish_at": at.to_rfc3339()}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.body["status"], "draft");
    let slug = "/api/v1/t/lecce/entries/tema/webinar-cit-lecce-2";
    let incomplete =
        app.post("/api/v1/t/lecce/entries/tema", Some(&root), json!({"data": {}, "publish_at": at.to_rfc3339()})).await;
    assert_eq!(incomplete.status, 422, "scheduling needs what publishing needs");

    app.clock.set(at - Duration::seconds(1));
    assert!(app.tick().await.published.is_empty());
    assert_eq!(app.get(slug, None).await.status, 404, "not before its time");

    app.restart().await;
    app.clock.set(at + Duration::seconds(1));
    let report = app.tick().await;
    assert_eq!(report.published.len(), 1);
    let public = app.get(slug, None).await;
    assert_eq!(public.status, 200);
    assert_eq!(public.body["status"], "published");
    let published_at = chrono::DateTime::parse_from_rfc3339(public.body["published_at"].as_str().unwrap()).unwrap();
    assert_eq!(published_at.timestamp(), at.timestamp(), "published at the scheduled time");

    // Again, and after another restart: nothing more happens.
    assert!(app.tick().await.published.is_empty());
    app.restart().await;
    assert!(app.tick().await.published.is_empty());
    let id = public.body["id"].as_str().unwrap();
    let revisions = app.get(&format!("/api/v1/t/lecce/entries/tema/{id}/revisions"), Some(&root)).await;
    let notes: Vec<&str> =
        revisions.body["data"].as_array().unwrap().iter().map(|r| r["note"].as_str().unwrap()).collect();
    assert_eq!(notes, ["scheduled_publish", "created"], "published exactly once");

    // unpublish_at archives it, once.
    app.patch(
        &format!("/api/v1/t/lecce/entries/tema/{id}"),
        Some(&root),
        json!({"unpublish_at": (at + Duration::hours(1)).to_rfc3339()}),
    )
    .await;
    app.clock.set(at + Duration::hours(2));
    assert_eq!(app.tick().await.unpublished.len(), 1);
    assert_eq!(app.get(slug, None).await.status, 404);
    assert!(app.tick().await.unpublished.is_empty());
}

#[tokio::test]
async fn revisions_diff_and_restore() {
    let app = spawn_app().await;
    let root = with_types(&app).await;
    let e = create(&app, &root, "prova", json!({"data": {"title": "Prima", "count": 1}})).await;
    let id = e["id"].as_str().unwrap();
    let path = format!("/api/v1/t/lecce/entries/prova/{id}");
    let v2 = app.patch(&path, Some(&root), json!({"data": {"title": "Seconda"}, "revision": 1})).await;
    assert_eq!(v2.status, 200, "{}", v2.text);
    assert_eq!(v2.body["data"], json!({"title": "Seconda", "count": 1, "active": true}), "data is merged key by key");
    let stale = app.patch(&path, Some(&root), json!({"data": {"title": "Terza"}, "revision": 1})).await;
    assert_eq!(stale.status, 409, "a write based on an old revision is refused");
    assert_eq!(stale.code(), "stale");
    app.patch(&path, Some(&root), json!({"data": {"count": null, "title": "Terza"}})).await;

    let revs = app.get(&format!("{path}/revisions"), Some(&root)).await;
    let numbers: Vec<i64> =
        revs.body["data"].as_array().unwrap().iter().map(|r| r["revision"].as_i64().unwrap()).collect();
    assert_eq!(numbers, [3, 2, 1]);
    let diff = app.get(&format!("{path}/revisions/3/diff?against=1"), Some(&root)).await;
    assert_eq!(
        diff.body["changes"],
        json!([{"field": "count", "before": 1, "after": null}, {"field": "title", "before": "Prima", "after": "Terza"}])
    );

    let restored = app.post(&format!("{path}/revisions/1/restore"), Some(&root), json!({})).await;
    assert_eq!(restored.status, 200, "{}", restored.text);
    assert_eq!(restored.body["data"]["title"], "Prima");
    assert_eq!(restored.body["data"]["count"], 1);
    assert_eq!(restored.body["revision"], 4);
    let last = app.get(&format!("{path}/revisions"), Some(&root)).await;
    assert_eq!(last.body["data"][0]["note"], "restored:1");
    assert_eq!(app.get(&format!("{path}/revisions/9"), Some(&root)).await.status, 404);
    assert_eq!(app.get(&format!("{path}/revisions"), None).await.status, 401, "history is for editors");
}

#[tokio::test]
async fn drafts_need_a_preview_token_or_an_editor() {
    let app = spawn_app().await;
    let root = with_types(&app).await;
    let draft = create(&app, &root, "tema", json!({"data": {"title": "Bozza riservata"}})).await;
    let id = draft["id"].as_str().unwrap();
    let (read, _) = app.api_token(&root, "lecce", &["read"]).await;
    let (preview, _) = app.api_token(&root, "lecce", &["preview"]).await;
    let author = app.member(&root, "lecce", "autore@lecce.it", "author").await;
    let member = app.member(&root, "lecce", "socio@lecce.it", "member").await;

    let by_id = format!("/api/v1/t/lecce/entries/tema/{id}");
    assert_eq!(app.get(&by_id, None).await.status, 404, "a draft is invisible to the public");
    assert_eq!(app.get(&format!("{by_id}?status=draft"), None).await.status, 401);
    assert_eq!(app.get(&format!("{by_id}?status=draft"), Some(&read)).await.status, 403);
    assert_eq!(app.get(&format!("{by_id}?status=draft"), Some(&member)).await.status, 403);
    for who in [&preview, &author, &root] {
        let res = app.get(&format!("{by_id}?status=draft"), Some(who)).await;
        assert_eq!(res.status, 200);
        assert_eq!(res.header("cache-control"), Some("private, no-cache"));
    }
    assert_eq!(
        titles(&app.get("/api/v1/t/lecce/entries/tema", Some(&preview)).await.body).len(),
        0,
        "lists show published unless asked"
    );
    assert_eq!(
        titles(&app.get("/api/v1/t/lecce/entries/tema?status=any", Some(&preview)).await.body),
        ["Bozza riservata"]
    );

    // Authors write drafts but cannot publish; preview tokens cannot write.
    assert_eq!(
        app.post("/api/v1/t/lecce/entries/tema", Some(&author), json!({"data": {"title": "Mia"}})).await.status,
        201
    );
    assert_eq!(
        app.post(
            "/api/v1/t/lecce/entries/tema",
            Some(&author),
            json!({"data": {"title": "Mia 2"}, "status": "published"})
        )
        .await
        .status,
        403
    );
    assert_eq!(app.patch(&by_id, Some(&author), json!({"status": "published"})).await.status, 403);
    assert_eq!(
        app.post("/api/v1/t/lecce/entries/tema", Some(&preview), json!({"data": {"title": "No"}})).await.status,
        403
    );
    let (write, _) = app.api_token(&root, "lecce", &["write"]).await;
    assert_eq!(app.patch(&by_id, Some(&write), json!({"status": "published"})).await.status, 200);
    assert_eq!(
        app.patch(&by_id, Some(&author), json!({"data": {"title": "Cambiata"}})).await.status,
        403,
        "authors do not edit published entries"
    );
    assert_eq!(app.delete(&by_id, Some(&author)).await.status, 403);
    assert_eq!(app.delete(&by_id, Some(&root)).await.status, 204);
    assert_eq!(app.get(&by_id, None).await.status, 404);
}

#[tokio::test]
async fn reads_carry_strong_etags_and_answer_304() {
    let app = spawn_app().await;
    let root = with_types(&app).await;
    let e = create(&app, &root, "tema", json!({"data": {"title": "Cache"}, "status": "published"})).await;
    for path in ["/api/v1/t/lecce/entries/tema", "/api/v1/t/lecce/entries/tema/cache", "/api/v1/t/lecce/content-types"]
    {
        let first = app.get(path, None).await;
        let etag = first.header("etag").unwrap().to_owned();
        assert!(etag.starts_with('"') && !etag.starts_with("W/"), "strong: {etag}");
        assert_eq!(first.header("cache-control"), Some("public, no-cache"));
        let again = app.client.get(app.url(path)).header("if-none-match", &etag).send().await.unwrap();
        assert_eq!(again.status().as_u16(), 304, "{path}");
        assert_eq!(again.headers()["etag"], etag.as_str());
        assert!(again.text().await.unwrap().is_empty());
    }
    let etag = app.get("/api/v1/t/lecce/entries/tema/cache", None).await.header("etag").unwrap().to_owned();
    app.patch(
        &format!("/api/v1/t/lecce/entries/tema/{}", e["id"].as_str().unwrap()),
        Some(&root),
        json!({"data": {"title": "Cambiata"}}),
    )
    .await;
    let changed = app
        .client
        .get(app.url("/api/v1/t/lecce/entries/tema/cache"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status().as_u16(), 200, "a change gives a new ETag");
}

#[tokio::test]
async fn translations_share_a_group_and_references_expand_in_one_go() {
    let app = spawn_app().await;
    let root = app.admin_token().await;
    let res = app
        .post("/api/v1/tenants", Some(&root), json!({"id": "lecce", "name": "CIT Lecce", "locales": ["it", "en"]}))
        .await;
    assert_eq!(res.status, 201);
    for (id, def) in [("tema", crate::content::tema()), ("prova", crate::content::prova())] {
        app.put(&format!("/api/v1/t/lecce/content-types/{id}"), Some(&root), def).await;
    }
    let it = create(&app, &root, "tema", json!({"data": {"title": "Servizi digitali"}, "status": "published"})).await;
    let en = create(&app, &root, "tema", json!({"data": {"title": "Digital services"}, "status": "published", "locale": "en", "translation_of": it["id"]})).await;
    assert_eq!(en["translation_group"], it["translation_group"]);
    let dup = app
        .post(
            "/api/v1/t/lecce/entries/tema",
            Some(&root),
            json!({"data": {"title": "Again"}, "locale": "en", "translation_of": it["id"]}),
        )
        .await;
    assert_eq!(dup.status, 409);
    let de = app
        .post("/api/v1/t/lecce/entries/tema", Some(&root), json!({"data": {"title": "Digitale"}, "locale": "de"}))
        .await;
    assert_eq!(de.status, 422);
    assert_eq!(de.field(), "locale");

    let one = app.get("/api/v1/t/lecce/entries/tema/servizi-digitali", None).await;
    assert_eq!(one.body["translations"], json!([{"locale": "en", "id": en["id"], "slug": "digital-services"}]));
    let english = app.get("/api/v1/t/lecce/entries/tema?locale=en", None).await;
    assert_eq!(titles(&english.body), ["Digital services"]);
    assert_eq!(app.get("/api/v1/t/lecce/entries/tema/digital-services?locale=en", None).await.status, 200);

    let hidden = create(&app, &root, "tema", json!({"data": {"title": "Ancora bozza"}})).await;
    create(&app, &root, "prova", json!({"data": {"title": "Con temi", "topic": it["id"], "topics": [it["id"], hidden["id"]]}, "status": "published"})).await;
    let expanded = app.get("/api/v1/t/lecce/entries/prova/con-temi?expand=topic,topics", None).await;
    assert_eq!(expanded.status, 200, "{}", expanded.text);
    assert_eq!(expanded.body["data"]["topic"]["data"]["title"], "Servizi digitali");
    assert_eq!(expanded.body["data"]["topics"].as_array().unwrap().len(), 1, "drafts are not expanded for the public");
    assert_eq!(app.get("/api/v1/t/lecce/entries/prova?expand=title", None).await.status, 400);
}
