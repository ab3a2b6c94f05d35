//! Tickets, submissions and forms in GraphQL: the staff read what REST gives them, nobody else
//! reads anything, and no answer that holds them is ever cached.

use chrono::{DateTime, Utc};
use cit_tests::{Res, TestApp, spawn_app};
use serde_json::{Value, json};

use super::requests::{assistance, contact, fill_token, setup};

async fn gql(app: &TestApp, token: Option<&str>, query: &str, variables: Value) -> Res {
    app.post("/api/v1/t/lecce/graphql", token, json!({"query": query, "variables": variables})).await
}

fn urlencode(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

async fn gql_get(app: &TestApp, token: Option<&str>, query: &str) -> Res {
    app.get(&format!("/api/v1/t/lecce/graphql?query={}", urlencode(query)), token).await
}

/// The `data` of a response that must have no errors.
fn data(res: &Res) -> &Value {
    assert_eq!(res.status, 200, "{}", res.text);
    assert!(res.body.get("errors").is_none(), "unexpected errors: {}", res.text);
    &res.body["data"]
}

fn code(res: &Res) -> &str {
    res.body["errors"][0]["extensions"]["code"].as_str().unwrap_or("")
}

fn time(v: &Value) -> Option<DateTime<Utc>> {
    v.as_str().map(|s| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc))
}

fn numbers(list: &Value) -> Vec<i64> {
    list.as_array().unwrap().iter().map(|t| t["number"].as_i64().unwrap()).collect()
}

const TICKET_FIELDS: &str = "number subject state priority category ente assignee requester { name email } submission \
     firstResponseDue resolutionDue firstResponseAt resolvedAt closedAt overdue createdAt updatedAt";

/// A ticket of GraphQL says what the same ticket of REST says.
fn same_ticket(gql: &Value, rest: &Value) {
    let n = &rest["number"];
    assert_eq!(&gql["number"], n);
    for (g, r) in [("subject", "subject"), ("category", "category"), ("ente", "ente"), ("assignee", "assignee")] {
        assert_eq!(gql[g], rest[r], "ticket {n}: {g}");
    }
    for (g, r) in [("state", "state"), ("priority", "priority")] {
        assert_eq!(gql[g].as_str().map(str::to_lowercase).as_deref(), rest[r].as_str(), "ticket {n}: {g}");
    }
    assert_eq!(gql["requester"], rest["requester"], "ticket {n}: requester");
    assert_eq!(gql["submission"], rest["submission"]);
    assert_eq!(gql["overdue"], rest["overdue"], "ticket {n}: overdue");
    for (g, r) in [
        ("firstResponseDue", "first_response_due"),
        ("resolutionDue", "resolution_due"),
        ("firstResponseAt", "first_response_at"),
        ("resolvedAt", "resolved_at"),
        ("closedAt", "closed_at"),
        ("createdAt", "created_at"),
        ("updatedAt", "updated_at"),
    ] {
        assert_eq!(time(&gql[g]), time(&rest[r]), "ticket {n}: {g}");
    }
}

/// Lecce with its forms, two assistance tickets and a contact message; returns (admin, operator,
/// the operator's user id).
async fn with_requests(app: &TestApp) -> (String, String, String) {
    let admin = setup(app).await;
    let operator = app.member(&admin, "lecce", "operatore@lecce.example", "operator").await;
    let me = app.get("/api/v1/me", Some(&operator)).await.body["id"].as_str().unwrap().to_owned();
    let token = fill_token(app, "lecce", "richiesta-assistenza").await;
    for subject in ["Protocollo fermo", "PEC piena"] {
        let sent =
            app.post("/api/v1/t/lecce/forms/richiesta-assistenza/submissions", None, assistance(&token, subject)).await;
        assert_eq!(sent.status, 201, "{}", sent.text);
    }
    let token = fill_token(app, "lecce", "contatti").await;
    let sent = app.post("/api/v1/t/lecce/forms/contatti/submissions", None, contact(&token)).await;
    assert_eq!(sent.status, 201, "{}", sent.text);
    (admin, operator, me)
}

#[tokio::test]
async fn staff_read_over_graphql_the_tickets_and_submissions_rest_gives_them() {
    let app = spawn_app().await;
    let (_, operator, me) = with_requests(&app).await;
    let op = Some(operator.as_str());
    let patched =
        app.patch("/api/v1/t/lecce/tickets/1", op, json!({"assignee": me, "state": "open", "priority": "high"})).await;
    assert_eq!(patched.status, 200, "{}", patched.text);
    for (body, internal) in [("Nota interna: sentire il fornitore", true), ("Abbiamo riavviato: riprovi?", false)] {
        let res = app.post("/api/v1/t/lecce/tickets/1/messages", op, json!({"body": body, "internal": internal})).await;
        assert_eq!(res.status, 201, "{}", res.text);
    }

    // The list: the same tickets, the same facts.
    let list_query = format!(
        "query($state: TicketState, $priority: TicketPriority, $assignee: ID, $overdue: Boolean, $first: Int, $after: String) {{
           tickets(state: $state, priority: $priority, assignee: $assignee, overdue: $overdue, first: $first, after: $after) {{
             nodes {{ {TICKET_FIELDS} messages {{ body }} audit {{ action }} }}
             pageInfo {{ hasNextPage endCursor }}
           }}
         }}"
    );
    let rest = app.get("/api/v1/t/lecce/tickets", op).await;
    assert_eq!(rest.status, 200, "{}", rest.text);
    let res = gql(&app, op, &list_query, json!({})).await;
    let nodes = &data(&res)["tickets"]["nodes"];
    assert_eq!(numbers(nodes), [2, 1]);
    for (g, r) in nodes.as_array().unwrap().iter().zip(rest.body["data"].as_array().unwrap()) {
        same_ticket(g, r);
        assert!(g["messages"].is_null() && g["audit"].is_null(), "a list loads no thread, as in REST");
    }
    assert_eq!(data(&res)["tickets"]["pageInfo"], json!({"hasNextPage": false, "endCursor": "1"}));

    // Filters, each as REST applies it (priority is new to both).
    let filtered = |vars: Value| {
        let app = &app;
        let q = list_query.clone();
        async move { numbers(&data(&gql(app, op, &q, vars).await)["tickets"]["nodes"]) }
    };
    assert_eq!(filtered(json!({"state": "WAITING"})).await, [1], "the public reply made it wait");
    assert_eq!(filtered(json!({"state": "OPEN"})).await, Vec::<i64>::new());
    assert_eq!(numbers(&app.get("/api/v1/t/lecce/tickets?state=waiting", op).await.body["data"]), [1]);
    assert_eq!(filtered(json!({"state": "NEW"})).await, [2]);
    assert_eq!(filtered(json!({"priority": "HIGH"})).await, [1]);
    assert_eq!(filtered(json!({"priority": "URGENT"})).await, Vec::<i64>::new());
    assert_eq!(numbers(&app.get("/api/v1/t/lecce/tickets?priority=high", op).await.body["data"]), [1]);
    assert_eq!(app.get("/api/v1/t/lecce/tickets?priority=soon", op).await.status, 400);
    assert_eq!(filtered(json!({"assignee": me})).await, [1]);
    assert_eq!(filtered(json!({"overdue": true})).await, Vec::<i64>::new());
    app.clock.advance(chrono::Duration::days(11));
    assert_eq!(filtered(json!({"overdue": true})).await, [2, 1]);
    let overdue = app.get("/api/v1/t/lecce/tickets?overdue=true", op).await;
    let res = gql(&app, op, &list_query, json!({"overdue": true})).await;
    for (g, r) in
        data(&res)["tickets"]["nodes"].as_array().unwrap().iter().zip(overdue.body["data"].as_array().unwrap())
    {
        same_ticket(g, r);
        assert_eq!(g["overdue"], true);
    }

    // Pages: the cursor is REST's.
    let rest_page = app.get("/api/v1/t/lecce/tickets?limit=1", op).await;
    let page = gql(&app, op, &list_query, json!({"first": 1})).await;
    let info = &data(&page)["tickets"]["pageInfo"];
    assert_eq!(numbers(&data(&page)["tickets"]["nodes"]), [2]);
    assert_eq!((&info["hasNextPage"], &info["endCursor"]), (&json!(true), &rest_page.body["next_cursor"]));
    let next = gql(&app, op, &list_query, json!({"first": 1, "after": info["endCursor"]})).await;
    assert_eq!(numbers(&data(&next)["tickets"]["nodes"]), [1]);
    assert_eq!(data(&next)["tickets"]["pageInfo"]["hasNextPage"], false);

    // One ticket: its whole thread, internal notes too, and its audit trail.
    let one_query = format!(
        "query($n: Int!) {{ ticket(number: $n) {{ {TICKET_FIELDS}
            messages {{ id author authorName authorUser body internal createdAt }}
            audit {{ actor action details at }} }} }}"
    );
    let res = gql(&app, op, &one_query, json!({"n": 1})).await;
    let t = &data(&res)["ticket"];
    let rest_one = app.get("/api/v1/t/lecce/tickets/1", op).await;
    same_ticket(t, &rest_one.body);
    let messages = t["messages"].as_array().unwrap();
    let rest_messages = rest_one.body["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 3);
    for (g, r) in messages.iter().zip(rest_messages) {
        for (gf, rf) in [("id", "id"), ("author", "author"), ("authorName", "author_name"), ("body", "body")] {
            assert_eq!(g[gf], r[rf]);
        }
        assert_eq!((&g["authorUser"], &g["internal"]), (&r["author_user"], &r["internal"]));
        assert_eq!(time(&g["createdAt"]), time(&r["created_at"]));
    }
    assert!(messages.iter().any(|m| m["internal"] == true && m["body"] == "Nota interna: sentire il fornitore"));
    let actions = |list: &Value| -> Vec<String> {
        list.as_array().unwrap().iter().map(|a| a["action"].as_str().unwrap().to_owned()).collect()
    };
    assert!(!actions(&t["audit"]).is_empty());
    assert_eq!(actions(&t["audit"]), actions(&rest_one.body["audit"]));
    assert_eq!(t["audit"][0]["details"], rest_one.body["audit"][0]["details"]);
    let none = gql(&app, op, &one_query, json!({"n": 99})).await;
    assert!(data(&none)["ticket"].is_null());

    // Submissions: the same list, the same data, by form, a page at a time.
    let subs_query = "query($form: String, $first: Int, $after: String) {
        submissions(form: $form, first: $first, after: $after) {
          nodes { id form formVersion data consentVersion servizio ente page ticket createdAt anonymisedAt }
          pageInfo { hasNextPage endCursor } } }";
    let rest_subs = app.get("/api/v1/t/lecce/submissions", op).await;
    let res = gql(&app, op, subs_query, json!({})).await;
    let nodes = data(&res)["submissions"]["nodes"].as_array().unwrap();
    let rest_nodes = rest_subs.body["data"].as_array().unwrap();
    assert_eq!(nodes.len(), 3);
    for (g, r) in nodes.iter().zip(rest_nodes) {
        for (gf, rf) in [
            ("id", "id"),
            ("form", "form"),
            ("formVersion", "form_version"),
            ("data", "data"),
            ("consentVersion", "consent_version"),
            ("servizio", "servizio"),
            ("ente", "ente"),
            ("page", "page"),
            ("ticket", "ticket"),
            ("anonymisedAt", "anonymised_at"),
        ] {
            assert_eq!(g[gf], r[rf], "submission {}: {gf}", r["id"]);
        }
        assert_eq!(time(&g["createdAt"]), time(&r["created_at"]));
    }
    let contacts = gql(&app, op, subs_query, json!({"form": "contatti"})).await;
    let contacts = data(&contacts)["submissions"]["nodes"].as_array().unwrap();
    assert_eq!(contacts.len(), 1);
    assert_eq!(contacts[0]["data"]["messaggio"], "<script>alert('x')</script> vorrei sapere di più");
    let first = gql(&app, op, subs_query, json!({"first": 2})).await;
    let rest_first = app.get("/api/v1/t/lecce/submissions?limit=2", op).await;
    assert_eq!(data(&first)["submissions"]["pageInfo"]["endCursor"], rest_first.body["next_cursor"]);
    let after = data(&first)["submissions"]["pageInfo"]["endCursor"].clone();
    let rest_page = gql(&app, op, subs_query, json!({"first": 2, "after": after})).await;
    assert_eq!(data(&rest_page)["submissions"]["nodes"][0]["id"], rest_nodes[2]["id"]);
    let id = rest_nodes[0]["id"].as_str().unwrap();
    let one = gql(&app, op, "query($id: ID!) { submission(id: $id) { id data ticket } }", json!({"id": id})).await;
    let rest_one = app.get(&format!("/api/v1/t/lecce/submissions/{id}"), op).await;
    assert_eq!(data(&one)["submission"]["data"], rest_one.body["data"]);
    assert_eq!(data(&one)["submission"]["ticket"], rest_one.body["ticket"]);
    let missing = json!({"id": uuid::Uuid::new_v4()});
    assert!(
        data(&gql(&app, op, "query($id: ID!) { submission(id: $id) { id } }", missing).await)["submission"].is_null()
    );

    // Forms are public, as in REST.
    let forms = gql(
        &app,
        None,
        "{ forms { id purpose title fields { name kind required min max } privacy { version } } }",
        json!({}),
    )
    .await;
    let rest_forms = app.get("/api/v1/t/lecce/forms", None).await;
    let ids = |list: &Value| -> Vec<String> {
        list.as_array().unwrap().iter().map(|f| f["id"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(ids(&data(&forms)["forms"]), ids(&rest_forms.body["data"]));
    assert_eq!(ids(&data(&forms)["forms"]), ["contatti", "richiesta-assistenza", "valutazione-pagina"]);
    let rating = &data(&forms)["forms"][2]["fields"][0];
    assert_eq!((&rating["name"], &rating["min"], &rating["max"]), (&json!("rating"), &json!(1.0), &json!(5.0)));
}

#[tokio::test]
async fn requests_in_graphql_reach_only_the_tenants_staff_and_are_never_cached() {
    let app = spawn_app().await;
    let (admin, operator, _) = with_requests(&app).await;
    let author = app.member(&admin, "lecce", "autore@lecce.example", "author").await;
    app.create_tenant(&admin, "genova").await;
    let genova_editor = app.member(&admin, "genova", "redattore@genova.example", "editor").await;
    let genova_operator = app.member(&admin, "genova", "operatore@genova.example", "operator").await;
    let (write_token, _) = app.api_token(&admin, "lecce", &["write", "preview"]).await;
    let query = "{ tickets { nodes { number subject requester { email } } } }";

    // Nobody but the staff gets anything: an error with REST's code, and no data.
    let anonymous = gql(&app, None, query, json!({})).await;
    assert_eq!((anonymous.status, code(&anonymous)), (200, "unauthenticated"), "{}", anonymous.text);
    assert!(anonymous.body["data"].is_null(), "{}", anonymous.text);
    for (who, token) in [("author", &author), ("editor of genova", &genova_editor), ("API token", &write_token)] {
        let res = gql(&app, Some(token), query, json!({})).await;
        assert_eq!(code(&res), "forbidden", "{who}: {}", res.text);
        assert!(res.body["data"].is_null(), "{who}: {}", res.text);
        assert!(!res.text.contains("Protocollo") && !res.text.contains("luca@"), "{who}: {}", res.text);
        let one = gql(
            &app,
            Some(token),
            "{ ticket(number: 1) { subject } submission(id: \"00000000-0000-0000-0000-000000000000\") { id } }",
            json!({}),
        )
        .await;
        assert_eq!(code(&one), "forbidden", "{who}: {}", one.text);
        assert!(
            [json!(null), json!({"ticket": null, "submission": null})].contains(&one.body["data"]),
            "{who}: {}",
            one.text
        );
        let subs = gql(&app, Some(token), "{ submissions { nodes { data } } }", json!({})).await;
        assert_eq!((code(&subs), subs.body["data"].is_null()), ("forbidden", true), "{who}: {}", subs.text);
    }
    // Genova's operator sees Genova's tickets (none), never Lecce's.
    let theirs = app.post("/api/v1/t/genova/graphql", Some(&genova_operator), json!({"query": query})).await;
    assert_eq!(data(&theirs)["tickets"]["nodes"], json!([]));
    let ours = gql(&app, Some(&genova_operator), query, json!({})).await;
    assert_eq!(code(&ours), "forbidden");

    // Over GET, an answer with staff data is `no-store`, has no ETag, and is never kept.
    let op = Some(operator.as_str());
    for _ in 0..2 {
        let res = gql_get(&app, op, query).await;
        assert_eq!(numbers(&data(&res)["tickets"]["nodes"]), [2, 1]);
        assert_eq!(res.header("cache-control"), Some("no-store"));
        assert_eq!(res.header("etag"), None);
        assert_eq!(res.header("x-cit-cache"), None);
    }
    let kept = app.state.read_cache.len();
    for q in [query, "{ forms { id } }", "{ tenant { id } tickets { nodes { number } } }"] {
        for _ in 0..2 {
            let res = gql_get(&app, None, q).await;
            assert_eq!(res.header("cache-control"), Some("no-store"), "{q}: {}", res.text);
            assert_ne!(res.header("x-cit-cache"), Some("hit"), "{q}");
            assert!(!res.text.contains("Protocollo"));
        }
    }
    assert_eq!(app.state.read_cache.len(), kept, "nothing of it was kept");
    // …while content alone still is (the check above can fail).
    gql_get(&app, None, "{ tenant { id } }").await;
    let hit = gql_get(&app, None, "{ tenant { id } }").await;
    assert_eq!((hit.header("x-cit-cache"), hit.header("cache-control")), (Some("hit"), Some("public, no-cache")));
    // POST answers are never cached either.
    let post = gql(&app, op, query, json!({})).await;
    assert_eq!(post.header("cache-control"), Some("no-store"));
}

#[tokio::test]
async fn bad_arguments_to_tickets_and_submissions_are_refused_clearly() {
    let app = spawn_app().await;
    let (_, operator, _) = with_requests(&app).await;
    let op = Some(operator.as_str());
    let cases: &[(&str, &str)] = &[
        ("{ tickets(first: 101) { nodes { number } } }", "FIRST_TOO_LARGE"),
        ("{ submissions(first: 500) { nodes { id } } }", "FIRST_TOO_LARGE"),
        ("{ tickets(first: 0) { nodes { number } } }", "invalid_query"),
        ("{ tickets(first: -3) { nodes { number } } }", "invalid_query"),
        ("{ tickets(after: \"abc\") { nodes { number } } }", "invalid_cursor"),
        ("{ submissions(after: \"not-an-id\") { nodes { id } } }", "invalid_cursor"),
        ("{ tickets(assignee: \"nobody\") { nodes { number } } }", "invalid_query"),
        ("{ tickets(state: SOON) { nodes { number } } }", "GRAPHQL_VALIDATION_FAILED"),
        ("{ tickets(priority: \"high\") { nodes { number } } }", "GRAPHQL_VALIDATION_FAILED"),
        ("{ ticket { subject } }", "GRAPHQL_VALIDATION_FAILED"),
        ("{ tickets { nodes { secret } } }", "GRAPHQL_VALIDATION_FAILED"),
    ];
    for (query, expected) in cases {
        let res = gql(&app, op, query, json!({})).await;
        assert_eq!(res.status, 200, "{query}: {}", res.text);
        assert_eq!(code(&res), *expected, "{query}: {}", res.text);
        assert!(!res.body["errors"][0]["message"].as_str().unwrap_or("").is_empty());
        assert!(res.body["data"].is_null(), "{query}: {}", res.text);
    }
    // The page size is also checked when it comes in a variable, before anything runs.
    let res = gql(&app, op, "query($n: Int) { tickets(first: $n) { nodes { number } } }", json!({"n": 1000})).await;
    assert_eq!(code(&res), "FIRST_TOO_LARGE", "{}", res.text);
    // The cost of a page counts its size: 100 tickets with their fields, many times over, is too much.
    let aliases: String = (0..30)
        .map(|i| {
            format!(
                "t{i}: tickets(first: 100) {{ nodes {{ number subject state priority requester {{ name email }} }} }} "
            )
        })
        .collect();
    let res = gql(&app, op, &format!("{{ {aliases} }}"), json!({})).await;
    assert_eq!(code(&res), "COMPLEXITY_LIMIT", "{}", res.text);
}

#[tokio::test]
async fn a_page_of_tickets_costs_the_same_sql_statements_for_two_as_for_six() {
    let app = spawn_app().await;
    let (_, operator, _) = with_requests(&app).await;
    let query = format!(
        "{{ tickets(first: 50) {{ nodes {{ {TICKET_FIELDS} }} }} submissions(first: 50) {{ nodes {{ id data ticket }} }} }}"
    );
    let statements = || async {
        let before = app.store.query_count();
        let res = gql(&app, Some(&operator), &query, json!({})).await;
        let after = app.store.query_count();
        (numbers(&data(&res)["tickets"]["nodes"]).len(), after - before)
    };
    let (two, for_two) = statements().await;
    let token = fill_token(&app, "lecce", "richiesta-assistenza").await;
    for i in 0..4 {
        let sent = app
            .post(
                "/api/v1/t/lecce/forms/richiesta-assistenza/submissions",
                None,
                assistance(&token, &format!("N. {i}")),
            )
            .await;
        assert_eq!(sent.status, 201, "{}", sent.text);
    }
    let (six, for_six) = statements().await;
    assert_eq!((two, six), (2, 6));
    assert_eq!(for_two, for_six, "no statement per ticket or per submission");
}
