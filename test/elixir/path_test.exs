defmodule Khepri.PathTest do
  use ExUnit.Case, async: true

  require Khepri.Condition
  import Khepri.Path

  describe "~p and ~P" do
    test "parse Unix-like paths" do
      assert ~p"/:stock/:wood/oak" == [:stock, :wood, "oak"]
      assert ~P"/:stock/:wood/oak" == [:stock, :wood, "oak"]
      assert ~p"/:x/y" == [:x, "y"]
      assert ~p"/" == []
      assert ~p"" == []
      assert ~p"/foo/" == ["foo"]
      assert ~p"/foo bar" == ["foo bar"]
      assert ~p"/:a b" == [:"a b"]
      assert ~p"/%3Afoo/:b%2Fc" == [":foo", :"b/c"]
      assert ~p"/:foo/../bar" == [:foo, parent_node(), "bar"]
      assert ~p"/é" == ["é"]
      assert ~p"/:é" == [:é]
    end

    test "relative paths" do
      assert ~p"stock/wood" == [this_node(), "stock", "wood"]
      assert ~p":stock/wood" == [this_node(), :stock, "wood"]
      assert ~p"." == [this_node()]
      assert ~p".." == [parent_node()]
      assert ~p"../foo" == [parent_node(), "foo"]
    end

    test "~p interpolates, ~P does not" do
      name = "oak"
      assert ~p"/:stock/:wood/#{name}" == [:stock, :wood, "oak"]
      assert ~P"/:stock/:wood/#{name}" == [:stock, :wood, "\#{name}"]
    end

    test "wildcards and globs" do
      assert ~p"*" == [star()]
      assert ~p"**" == [star_star()]
      assert ~p"/*/foo" == [star(), "foo"]
      assert ~p"/:stock/**" == [:stock, star_star()]

      assert ~p"/a*b*c" == [Khepri.Condition.if_name_matches(regex: '^a.*b.*c$')]
      assert ~p"/:foo*" == [:"foo*"]
    end

    test "match the same terms as from_string/1 and from_binary/1" do
      for path <- ["/:stock/:wood/oak", "/*/foo", "../x", "/a%20b"] do
        assert Khepri.Path.from_string(path) == Khepri.Path.from_binary(path)
        assert Khepri.Path.from_string(String.to_charlist(path)) == Khepri.Path.from_string(path)
      end

      assert Khepri.Path.from_string([:foo, "bar"]) == [:foo, "bar"]
      assert Khepri.Path.from_string([root(), :foo]) == [:foo]
    end

    test "raise invalid_path for what is not a path" do
      error = assert_raise ErlangError, fn -> Khepri.Path.from_string(:foo) end
      assert error.original == {:khepri_ex, :invalid_path, %{path: :foo}}

      error = assert_raise ErlangError, fn -> Khepri.Path.from_string(42) end
      assert error.original == {:khepri_ex, :invalid_path, %{path: 42}}
    end
  end

  describe "to_string/1 and to_binary/1" do
    test "format native paths" do
      assert Khepri.Path.to_string([]) == '/'
      assert Khepri.Path.to_string([:foo, "bar"]) == '/:foo/bar'
      assert Khepri.Path.to_string(["a b"]) == '/a%20b'
      assert Khepri.Path.to_string([this_node(), :foo]) == ':foo'
      assert Khepri.Path.to_string([parent_node(), :foo]) == '../:foo'
      assert Khepri.Path.to_string([:foo, parent_node(), :bar]) == '/:foo/../:bar'
      assert Khepri.Path.to_string([".hidden"]) == '/%2Ehidden'
      assert Khepri.Path.to_string([:"a:b"]) == '/:a%3Ab'
      assert Khepri.Path.to_string(["é"]) == '/%C3%A9'

      assert Khepri.Path.to_binary([:stock, :wood, "oak"]) == "/:stock/:wood/oak"
    end

    test "round-trip through ~p" do
      for path <- [[:stock, :wood, "oak"], ["a b", :"c/d"], ["é", :é], [<<>>, :x]] do
        string = Khepri.Path.to_binary(path)
        assert ~p"#{string}" == path
      end
    end

    test "raise invalid_path for a pattern" do
      error = assert_raise ErlangError, fn -> Khepri.Path.to_string([star()]) end
      assert {:khepri_ex, :invalid_path, %{path: [_], component: _}} = error.original
    end
  end

  describe "special components and wildcards" do
    test "are the Erlang terms" do
      assert root() == ?/
      assert this_node() == ?.
      assert parent_node() == ?^
      assert star() == {:if_name_matches, :any, :undefined}
      assert star() == Khepri.Condition.if_name_matches(regex: :any)
      assert star_star() == {:if_path_matches, :any, :undefined}
      assert star_star() == Khepri.Condition.if_path_matches(regex: :any)
    end

    test "are usable in patterns" do
      assert [star(), "foo"] = ~p"/*/foo"
      assert [:stock, star_star()] = ~p"/:stock/**"
      assert [parent_node(), "foo"] = ~p"../foo"

      classify = fn
        [this_node() | _] -> :relative
        [parent_node() | _] -> :relative
        [star() | _] -> :wildcard
        [star_star() | _] -> :wildcard
        _ -> :absolute
      end

      assert classify.(~p"./x") == :relative
      assert classify.(~p"../x") == :relative
      assert classify.(~p"/*/x") == :wildcard
      assert classify.(~p"/**") == :wildcard
      assert classify.(~p"/:x") == :absolute

      # The compiled-regex cache field is ignored in matches.
      assert [star()] = [{:if_name_matches, :any, :compiled_cache}]
    end

    test "are usable in guards" do
      relative? = fn
        [c | _] when c in [this_node(), parent_node()] -> true
        _ -> false
      end

      assert relative?.(~p"../x")
      refute relative?.(~p"/x")
    end
  end

  describe "other functions" do
    test "mirror :khepri_path" do
      assert Khepri.Path.realpath([:foo, parent_node(), :bar, this_node()]) == [:bar]
      assert Khepri.Path.abspath([parent_node(), :x], [:a, :b]) == [:a, :x]
      assert Khepri.Path.targets_specific_node([:foo, :bar]) == {true, [:foo, :bar]}
      assert Khepri.Path.targets_specific_node([:foo, star()]) == false
      assert Khepri.Path.is_valid([:foo, "bar"]) == true
      assert Khepri.Path.is_valid([:foo, 1]) == {false, 1}
      assert Khepri.Path.pattern_includes_root_node([:a, parent_node()])
    end
  end
end
