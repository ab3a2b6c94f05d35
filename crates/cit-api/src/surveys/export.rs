//! A survey's sent answers as a table: one row per answer (the body, its kind and province,
//! when it was sent) and one column per question, a matrix taking one column per row. The same
//! table is written as CSV (RFC 4180, safe against spreadsheet formulas) and as XLSX.

use cit_core::surveys::{Answers, QuestionKind, Survey};
use serde_json::Value;

use crate::routes::tickets::csv_cell;

/// One answer and what is known of its body.
pub struct Row<'a> {
    pub sent_at: String,
    pub ente: Option<&'a str>,
    pub ente_name: Option<&'a str>,
    pub kind: Option<&'a str>,
    pub province: Option<&'a str>,
    pub answers: &'a Answers,
}

/// The header and the cells of every row.
pub fn table(survey: &Survey, rows: &[Row<'_>]) -> (Vec<String>, Vec<Vec<Cell>>) {
    let mut header: Vec<String> = ["inviato", "ente", "denominazione", "tipo", "provincia"].map(String::from).into();
    for q in survey.questions() {
        if q.kind == QuestionKind::Matrix {
            header.extend(q.rows.iter().map(|r| format!("{}.{}", q.name, r.value)));
        } else {
            header.push(q.name.clone());
        }
    }
    let text = |s: Option<&str>| Cell::Text(s.unwrap_or_default().to_owned());
    let body = rows
        .iter()
        .map(|r| {
            let mut cells =
                vec![Cell::Text(r.sent_at.clone()), text(r.ente), text(r.ente_name), text(r.kind), text(r.province)];
            for q in survey.questions() {
                let v = r.answers.get(&q.name);
                match q.kind {
                    QuestionKind::Matrix => {
                        for row in &q.rows {
                            cells.push(v.and_then(|m| m.get(&row.value)).map(cell_of).unwrap_or(Cell::Empty));
                        }
                    }
                    QuestionKind::Single => cells.push(
                        v.and_then(Value::as_str)
                            .map(|s| Cell::Text(q.label_of(s).unwrap_or(s).to_owned()))
                            .unwrap_or(Cell::Empty),
                    ),
                    QuestionKind::Multiple => cells.push(
                        v.and_then(Value::as_array)
                            .map(|items| {
                                Cell::Text(
                                    items
                                        .iter()
                                        .filter_map(Value::as_str)
                                        .map(|s| q.label_of(s).unwrap_or(s))
                                        .collect::<Vec<_>>()
                                        .join("; "),
                                )
                            })
                            .unwrap_or(Cell::Empty),
                    ),
                    _ => cells.push(v.map(cell_of).unwrap_or(Cell::Empty)),
                }
            }
            cells
        })
        .collect();
    (header, body)
}

pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
}

fn cell_of(v: &Value) -> Cell {
    match v {
        Value::Number(n) => n.as_f64().map(Cell::Number).unwrap_or(Cell::Empty),
        Value::String(s) => Cell::Text(s.clone()),
        Value::Null => Cell::Empty,
        other => Cell::Text(other.to_string()),
    }
}

pub fn csv(header: &[String], rows: &[Vec<Cell>]) -> String {
    let mut out = header.iter().map(|h| csv_cell(h)).collect::<Vec<_>>().join(",");
    out.push_str("\r\n");
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .map(|c| match c {
                Cell::Empty => String::new(),
                Cell::Text(s) => csv_cell(s),
                Cell::Number(n) => n.to_string(),
            })
            .collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

pub fn xlsx(title: &str, header: &[String], rows: &[Vec<Cell>]) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("Risposte")?;
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (c, h) in header.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, h, &bold)?;
    }
    for (r, row) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        for (c, cell) in row.iter().enumerate() {
            match cell {
                Cell::Empty => {}
                Cell::Text(s) => {
                    sheet.write_string(r, c as u16, s)?;
                }
                Cell::Number(n) => {
                    sheet.write_number(r, c as u16, *n)?;
                }
            }
        }
    }
    book.set_properties(&rust_xlsxwriter::DocProperties::new().set_title(title));
    book.save_to_buffer()
}
