namespace XenProf.Reporter.Symbols.SymbolsInternal;

/// <summary>
/// The red-black tree perf keeps a DSO's symbols in, reproduced node for node so that a lookup takes the path perf's
/// takes. The shape matters because extents can overlap (nested or zero-size-extended symbols, <c>@plt</c> entries
/// added after the fix-ups): perf's <c>symbols__find</c> (<c>tools/perf/util/symbol.c</c>, 6.1) returns the first node
/// on the root-to-leaf path whose extent holds the address, which is not always the nearest symbol below it, and can
/// be none at all although some symbol holds the address.
/// <list type="bullet">
/// <item>Insertion (<c>__symbols__insert</c>): descend left when the new start is below the node's, right otherwise
/// (equal starts go right, so they follow in order), link as a leaf and rebalance as <c>tools/lib/rbtree.c</c>
/// <c>__rb_insert</c> does (the classic cases: red uncle recolours and moves up two levels; black uncle rotates the
/// inner child out, then rotates at the grandparent).</item>
/// <item>Removal (<c>rb_erase</c>, used by <c>symbols__fixup_duplicate</c>): a node with two children is replaced by its
/// in-order successor (the leftmost node of its right subtree), then <c>____rb_erase_color</c> rebalances from the
/// successor's old parent when a black node left its place empty.</item>
/// <item>Search (<c>symbols__find</c>): below the node's start go left; above its end, or at its end when the extent is
/// not empty, go right; otherwise that node is the answer. An empty extent (end == start) holds only its start.</item>
/// </list>
/// Nodes are handles 0, 1, 2… in the order they were added; removed handles stay allocated and unused.
/// </summary>
internal sealed class PerfSymbolTree
{
    private ulong[] _start = new ulong[16], _end = new ulong[16];
    private int[] _left = new int[16], _right = new int[16], _parent = new int[16];
    private bool[] _red = new bool[16];
    private int _count, _root = -1;

    public PerfSymbolTree(int capacity = 16)
    {
        if (capacity > 16) Grow(capacity);
    }

    /// <summary>Start of node <paramref name="id"/> (inclusive).</summary>
    public ulong Start(int id) => _start[id];

    /// <summary>End of node <paramref name="id"/> (exclusive; equal to the start for an empty extent).</summary>
    public ulong End(int id) => _end[id];

    /// <summary>Sets the end of node <paramref name="id"/> (does not move it: the tree is keyed by start).</summary>
    public void SetEnd(int id, ulong end) => _end[id] = end;

    /// <summary>Adds a node with extent [<paramref name="start"/>, <paramref name="end"/>) and returns its handle.</summary>
    public int Add(ulong start, ulong end)
    {
        if (_count == _start.Length) Grow(_count * 2);
        int n = _count++;
        _start[n] = start; _end[n] = end;
        _left[n] = _right[n] = -1;
        int parent = -1;
        bool goLeft = false;
        for (int at = _root; at >= 0;)
        {
            parent = at;
            goLeft = start < _start[at];
            at = goLeft ? _left[at] : _right[at];
        }
        _parent[n] = parent;
        _red[n] = true;
        if (parent < 0) _root = n;
        else if (goLeft) _left[parent] = n;
        else _right[parent] = n;
        InsertFixup(n);
        return n;
    }

    /// <summary>The node perf's <c>symbols__find</c> returns for <paramref name="address"/>, or -1.</summary>
    public int Find(ulong address)
    {
        int n = _root;
        while (n >= 0)
        {
            if (address < _start[n]) n = _left[n];
            else if (address > _end[n] || (address == _end[n] && address != _start[n])) n = _right[n];
            else return n;
        }
        return -1;
    }

    /// <summary>The nodes in order (by start; equal starts in the order they were added).</summary>
    public List<int> InOrder()
    {
        var list = new List<int>(_count);
        var stack = new Stack<int>();
        int n = _root;
        while (n >= 0 || stack.Count > 0)
        {
            while (n >= 0) { stack.Push(n); n = _left[n]; }
            n = stack.Pop();
            list.Add(n);
            n = _right[n];
        }
        return list;
    }

    private void Grow(int capacity)
    {
        Array.Resize(ref _start, capacity);
        Array.Resize(ref _end, capacity);
        Array.Resize(ref _left, capacity);
        Array.Resize(ref _right, capacity);
        Array.Resize(ref _parent, capacity);
        Array.Resize(ref _red, capacity);
    }

    private bool IsRed(int n) => n >= 0 && _red[n];

    private void Replace(int old, int now, int parent)
    {
        if (parent < 0) _root = now;
        else if (_left[parent] == old) _left[parent] = now;
        else _right[parent] = now;
        if (now >= 0) _parent[now] = parent;
    }

    // x's right child takes x's place; x becomes its left child.
    private void RotateLeft(int x)
    {
        int y = _right[x], p = _parent[x];
        _right[x] = _left[y];
        if (_left[y] >= 0) _parent[_left[y]] = x;
        Replace(x, y, p);
        _left[y] = x;
        _parent[x] = y;
    }

    // x's left child takes x's place; x becomes its right child.
    private void RotateRight(int x)
    {
        int y = _left[x], p = _parent[x];
        _left[x] = _right[y];
        if (_right[y] >= 0) _parent[_right[y]] = x;
        Replace(x, y, p);
        _right[y] = x;
        _parent[x] = y;
    }

    private void InsertFixup(int n)
    {
        while (true)
        {
            int p = _parent[n];
            if (p < 0) { _red[n] = false; return; }
            if (!_red[p]) return;
            int g = _parent[p]; // a red node is never the root
            if (p == _left[g])
            {
                int uncle = _right[g];
                if (IsRed(uncle)) { _red[uncle] = _red[p] = false; _red[g] = true; n = g; continue; }
                if (n == _right[p]) { RotateLeft(p); p = n; }
                RotateRight(g);
            }
            else
            {
                int uncle = _left[g];
                if (IsRed(uncle)) { _red[uncle] = _red[p] = false; _red[g] = true; n = g; continue; }
                if (n == _left[p]) { RotateRight(p); p = n; }
                RotateLeft(g);
            }
            _red[p] = false;
            _red[g] = true;
            return;
        }
    }

    /// <summary>Removes node <paramref name="z"/> as <c>rb_erase</c> does.</summary>
    public void Remove(int z)
    {
        int right = _right[z], left = _left[z], rebalance = -1;
        if (left < 0)
        {
            int p = _parent[z];
            Replace(z, right, p);
            if (right >= 0) _red[right] = _red[z];
            else if (!_red[z]) rebalance = p;
        }
        else if (right < 0)
        {
            _red[left] = _red[z];
            Replace(z, left, _parent[z]);
        }
        else
        {
            int successor = right, parent, child2;
            if (_left[right] < 0) { parent = successor; child2 = _right[successor]; }
            else
            {
                parent = right;
                successor = _left[right];
                while (_left[successor] >= 0) { parent = successor; successor = _left[successor]; }
                child2 = _right[successor];
                _left[parent] = child2;
                if (child2 >= 0) _parent[child2] = parent;
                _right[successor] = right;
                _parent[right] = successor;
            }
            _left[successor] = left;
            _parent[left] = successor;
            bool successorWasRed = _red[successor];
            Replace(z, successor, _parent[z]);
            _red[successor] = _red[z];
            if (child2 >= 0) _red[child2] = false;
            else if (!successorWasRed) rebalance = parent;
        }
        _left[z] = _right[z] = _parent[z] = -1;
        if (rebalance >= 0) EraseFixup(rebalance);
    }

    // ____rb_erase_color: the subtree under `parent` on the side of `node` (-1 at first) is one black short.
    private void EraseFixup(int parent)
    {
        int node = -1;
        while (true)
        {
            int sibling = _right[parent];
            if (node != sibling) // node is the left child
            {
                if (_red[sibling])
                {
                    RotateLeft(parent);
                    _red[sibling] = false;
                    _red[parent] = true;
                    sibling = _right[parent];
                }
                int far = _right[sibling];
                if (!IsRed(far))
                {
                    int near = _left[sibling];
                    if (!IsRed(near))
                    {
                        _red[sibling] = true;
                        if (_red[parent]) { _red[parent] = false; return; }
                        node = parent;
                        parent = _parent[node];
                        if (parent < 0) return;
                        continue;
                    }
                    RotateRight(sibling);
                    far = sibling;
                    sibling = near;
                }
                RotateLeft(parent);
                _red[sibling] = _red[parent];
                _red[parent] = false;
                _red[far] = false;
                return;
            }
            else
            {
                sibling = _left[parent];
                if (_red[sibling])
                {
                    RotateRight(parent);
                    _red[sibling] = false;
                    _red[parent] = true;
                    sibling = _left[parent];
                }
                int far = _left[sibling];
                if (!IsRed(far))
                {
                    int near = _right[sibling];
                    if (!IsRed(near))
                    {
                        _red[sibling] = true;
                        if (_red[parent]) { _red[parent] = false; return; }
                        node = parent;
                        parent = _parent[node];
                        if (parent < 0) return;
                        continue;
                    }
                    RotateLeft(sibling);
                    far = sibling;
                    sibling = near;
                }
                RotateRight(parent);
                _red[sibling] = _red[parent];
                _red[parent] = false;
                _red[far] = false;
                return;
            }
        }
    }

    /// <summary>Checks the red-black invariants and the search order (tests): returns the black height.</summary>
    /// <exception cref="InvalidOperationException">An invariant is broken.</exception>
    public int Validate()
    {
        if (IsRed(_root)) throw new InvalidOperationException("red root");
        return Check(_root, -1);
    }

    private int Check(int n, int parent)
    {
        if (n < 0) return 1;
        if (_parent[n] != parent) throw new InvalidOperationException($"node {n}: parent link");
        if (_red[n] && (IsRed(_left[n]) || IsRed(_right[n]))) throw new InvalidOperationException($"node {n}: red with a red child");
        if (_left[n] >= 0 && _start[_left[n]] > _start[n]) throw new InvalidOperationException($"node {n}: left child above");
        if (_right[n] >= 0 && _start[_right[n]] < _start[n]) throw new InvalidOperationException($"node {n}: right child below");
        int l = Check(_left[n], n), r = Check(_right[n], n);
        if (l != r) throw new InvalidOperationException($"node {n}: black heights {l} and {r}");
        return l + (_red[n] ? 0 : 1);
    }
}
