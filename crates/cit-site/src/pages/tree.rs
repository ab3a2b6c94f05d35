//! The tree of static pages (type `pagina`): parents, paths of slugs, menus.

use std::collections::HashMap;

use serde::Serialize;

use crate::api::types::{Entry, Pagina};

/// A page as menus and lists of sub-pages show it.
#[derive(Debug, Clone, Serialize)]
pub struct MenuItem {
    pub title: String,
    pub url: String,
    pub summary: Option<String>,
    pub slug: String,
}

/// The page tree: ids, parents, and each page's path of slugs.
pub struct Tree {
    pages: Vec<Entry<Pagina>>,
    by_id: HashMap<String, usize>,
}

impl Tree {
    pub fn new(pages: Vec<Entry<Pagina>>) -> Tree {
        let by_id =
            pages.iter().enumerate().filter(|(_, p)| !p.id.is_empty()).map(|(i, p)| (p.id.clone(), i)).collect();
        Tree { pages, by_id }
    }

    /// Every page, in the order the API listed them.
    pub fn pages(&self) -> &[Entry<Pagina>] {
        &self.pages
    }

    fn parent_of(&self, p: &Entry<Pagina>) -> Option<&Entry<Pagina>> {
        let id = p.data.parent.as_deref()?;
        self.by_id.get(id).and_then(|i| self.pages.get(*i))
    }

    /// Ancestors from the root down to `p` included (cycles are cut).
    pub fn chain<'a>(&'a self, p: &'a Entry<Pagina>) -> Vec<&'a Entry<Pagina>> {
        let mut chain = vec![p];
        let mut cur = p;
        while let Some(parent) = self.parent_of(cur) {
            if chain.len() > 16 || chain.iter().any(|c| c.id == parent.id) {
                break;
            }
            chain.push(parent);
            cur = parent;
        }
        chain.reverse();
        chain
    }

    pub fn path_of(&self, p: &Entry<Pagina>) -> String {
        self.chain(p).iter().map(|c| format!("/{}", c.slug)).collect()
    }

    pub fn by_slug(&self, slug: &str) -> Option<&Entry<Pagina>> {
        self.pages.iter().find(|p| p.slug == slug)
    }

    fn order(p: &Entry<Pagina>) -> (i64, String) {
        (p.data.menu_order.unwrap_or(500), p.title())
    }

    /// Children of `parent` (None: the roots), in menu order; `menu_only` keeps those shown in menus.
    pub fn children(&self, parent: Option<&str>, menu_only: bool) -> Vec<MenuItem> {
        let mut kids: Vec<&Entry<Pagina>> = self
            .pages
            .iter()
            .filter(|p| match parent {
                Some(id) => p.data.parent.as_deref() == Some(id),
                None => self.parent_of(p).is_none(),
            })
            .filter(|p| !menu_only || p.data.show_in_menu != Some(false))
            .collect();
        kids.sort_by_key(|p| Self::order(p));
        kids.into_iter()
            .map(|p| MenuItem {
                title: p.title(),
                url: self.path_of(p),
                summary: p.data.summary.clone(),
                slug: p.slug.clone(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use serde_json::json;

    use super::*;

    fn page(id: &str, slug: &str, parent: Option<&str>, order: i64) -> Entry<Pagina> {
        Entry::from_value(
            json!({"id": id, "slug": slug, "data": {"title": slug.to_uppercase(), "parent": parent, "menu_order": order}}),
        )
        .unwrap()
    }

    #[test]
    fn page_tree_paths_and_children() {
        let tree = Tree::new(vec![
            page("1", "chi-siamo", None, 10),
            page("2", "il-cit", Some("1"), 10),
            page("3", "storia", Some("2"), 5),
            page("4", "contatti", None, 5),
        ]);
        let storia = tree.by_slug("storia").unwrap();
        assert_eq!(tree.path_of(storia), "/chi-siamo/il-cit/storia");
        let roots: Vec<_> = tree.children(None, true).iter().map(|c| c.slug.clone()).collect();
        assert_eq!(roots, vec!["contatti", "chi-siamo"]);
    }

    #[test]
    fn a_parent_cycle_does_not_loop() {
        let tree = Tree::new(vec![page("1", "a", Some("2"), 0), page("2", "b", Some("1"), 0)]);
        let a = tree.by_slug("a").unwrap();
        assert!(tree.chain(a).len() <= 2);
    }
}
