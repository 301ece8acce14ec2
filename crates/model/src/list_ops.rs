//! `set` / `add` / `remove` on a list: how QPS writes change collections.

/// `set` replaces a list, `add` appends items (replacing one with the same key), `remove` drops
/// the items with the key of each given one; keys unknown to the list are ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListOps<T> {
    pub set: Option<Vec<T>>,
    pub add: Vec<T>,
    pub remove: Vec<T>,
}

impl<T> Default for ListOps<T> {
    fn default() -> Self {
        ListOps {
            set: None,
            add: Vec::new(),
            remove: Vec::new(),
        }
    }
}

impl<T: Clone> ListOps<T> {
    pub fn is_empty(&self) -> bool {
        self.set.is_none() && self.add.is_empty() && self.remove.is_empty()
    }

    /// Applies set, then add, then remove; `same` says whether two items share a key. A list
    /// never holds two items with one key: a later item replaces an earlier one.
    pub fn apply(&self, list: &mut Vec<T>, same: impl Fn(&T, &T) -> bool) {
        if self.set.is_some() {
            list.clear();
        }
        for item in self.set.iter().flatten().chain(&self.add) {
            match list.iter_mut().find(|x| same(x, item)) {
                Some(existing) => *existing = item.clone(),
                None => list.push(item.clone()),
            }
        }
        list.retain(|x| !self.remove.iter().any(|r| same(x, r)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_ops_set_add_remove() {
        let ops = ListOps {
            set: Some(vec![1, 2, 3]),
            add: vec![4, 2],
            remove: vec![1, 9],
        };
        let mut list = vec![7];
        ops.apply(&mut list, |a, b| a == b);
        assert_eq!(list, vec![2, 3, 4]);
        let dup = ListOps {
            set: Some(vec![5, 5, 6]),
            add: vec![],
            remove: vec![],
        };
        dup.apply(&mut list, |a, b| a == b);
        assert_eq!(list, vec![5, 6]);
    }
}
