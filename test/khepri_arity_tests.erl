%% @doc Every arity form of the `khepri' and `khepri_adv' queries and writes
%% (SPEC 1.1, 2.2-2.6): with the default store and with an explicit one,
%% with and without options, and the exact terms they return.
-module(khepri_arity_tests).

-include_lib("eunit/include/eunit.hrl").
-include("khepri.hrl").

-import(khepri_test_helpers, [tmp_dir/1]).

-define(S, khepri).
-define(O, #{timeout => 10000}).
-define(STAR, ?KHEPRI_WILDCARD_STAR).

arity_forms_test_() ->
    {setup,
     fun() ->
             Dir = tmp_dir("arity"),
             {ok, ?S} = khepri:start(Dir),
             Dir
     end,
     fun(Dir) -> ok = khepri:stop(), file:del_dir_r(Dir) end,
     [fun queries/0, fun writes/0, fun bang_variants/0, fun adv/0]}.

queries() ->
    ok = khepri:put([q, a], 1),
    ok = khepri:put([q, b], khepri_payload:none()),
    ok = khepri:put([q, f], fun lists:reverse/1),
    %% get
    {ok, 1} = khepri:get([q, a]),
    {ok, 1} = khepri:get(?S, [q, a]),
    {ok, 1} = khepri:get([q, a], ?O),
    {ok, 1} = khepri:get(?S, [q, a], ?O),
    {ok, undefined} = khepri:get([q, b]),
    {ok, F} = khepri:get([q, f]),
    [3, 2, 1] = F([1, 2, 3]),
    %% get_or
    {ok, 1} = khepri:get_or([q, a], d),
    {ok, d} = khepri:get_or(?S, [q, b], d),
    {ok, d} = khepri:get_or([q, zz], d, ?O),
    {ok, d} = khepri:get_or(?S, [zz, zz], d, ?O),
    %% get_many, get_many_or
    Many = #{[q, a] => 1, [q, b] => undefined, [q, f] => F},
    {ok, Many} = khepri:get_many([q, ?STAR]),
    {ok, Many} = khepri:get_many(?S, "/:q/*"),
    {ok, Many} = khepri:get_many([q, ?STAR], ?O),
    {ok, Many} = khepri:get_many(?S, [q, ?STAR], ?O),
    {ok, #{[q, b] := d}} = khepri:get_many_or([q, ?STAR], d),
    {ok, #{[q, b] := d}} = khepri:get_many_or(?S, [q, ?STAR], d),
    {ok, #{[q, b] := d}} = khepri:get_many_or([q, ?STAR], d, ?O),
    {ok, #{[q, b] := d}} = khepri:get_many_or(?S, [q, ?STAR], d, ?O),
    %% exists, has_data, is_sproc
    true = khepri:exists([q, b]),
    false = khepri:exists(?S, [q, zz]),
    true = khepri:exists([q], ?O),
    true = khepri:exists(?S, [q, a], ?O),
    true = khepri:has_data([q, a]),
    false = khepri:has_data(?S, [q, b]),
    false = khepri:has_data([q, f], ?O),
    false = khepri:has_data(?S, [q, zz], ?O),
    true = khepri:is_sproc([q, f]),
    false = khepri:is_sproc(?S, [q, a]),
    false = khepri:is_sproc([q, zz], ?O),
    true = khepri:is_sproc(?S, [q, f], ?O),
    %% count
    {ok, 3} = khepri:count([q, ?STAR]),
    {ok, 4} = khepri:count(?S, [?KHEPRI_WILDCARD_STAR_STAR]),
    {ok, 1} = khepri:count([], ?O),
    {ok, 5} = khepri:count(?S, [?KHEPRI_WILDCARD_STAR_STAR], #{include_root_props => true}),
    %% fold, foreach, map, filter (callbacks run in the caller)
    Me = self(),
    {ok, 3} = khepri:fold([q, ?STAR], fun(_, _, N) -> N + 1 end, 0),
    {ok, [[q, a]]} = khepri:fold(?S, [q, a], fun(P, _, Acc) -> [P | Acc] end, []),
    {ok, #{data := 1}} = khepri:fold([q, a], fun(_, Props, _) -> Props end, none, ?O),
    {ok, 3} = khepri:fold(?S, [q, ?STAR], fun(_, _, N) -> N + 1 end, 0, ?O),
    ok = khepri:foreach([q, a], fun(P, _) -> Me ! {seen, P} end),
    receive {seen, [q, a]} -> ok after 1000 -> error(no_callback) end,
    ok = khepri:foreach(?S, [q, a], fun(_, _) -> ok end),
    ok = khepri:foreach([q, a], fun(_, _) -> ok end, ?O),
    ok = khepri:foreach(?S, [q, a], fun(_, _) -> ok end, ?O),
    {ok, #{[q, a] := x}} = khepri:map([q, a], fun(_, _) -> x end),
    {ok, #{[q, a] := 1}} = khepri:map(?S, [q, a], fun(_, #{data := D}) -> D end),
    {ok, #{[q, a] := x}} = khepri:map([q, a], fun(_, _) -> x end, ?O),
    {ok, #{[q, a] := x}} = khepri:map(?S, [q, a], fun(_, _) -> x end, ?O),
    {ok, #{[q, a] := 1}} = khepri:filter([q, ?STAR], fun(_, P) -> maps:is_key(data, P) andalso not is_function(maps:get(data, P)) end),
    {ok, #{}} = khepri:filter(?S, [q, ?STAR], fun(_, _) -> false end),
    {ok, #{[q, b] := undefined}} = khepri:filter([q, ?STAR], fun([q, N], _) -> N =:= b end, ?O),
    {ok, #{[q, f] := F}} = khepri:filter(?S, [q, ?STAR], fun([q, N], _) -> N =:= f end, ?O),
    %% is_empty
    false = khepri:is_empty(),
    false = khepri:is_empty(?S),
    false = khepri:is_empty(?O),
    false = khepri:is_empty(?S, ?O),
    ok = khepri:delete_many("**"),
    true = khepri:is_empty().

writes() ->
    ok = khepri:put([w, a], 1),
    ok = khepri:put(?S, [w, b], 2),
    ok = khepri:put([w, c], 3, ?O),
    ok = khepri:put(?S, [w, d], 4, ?O),
    ok = khepri:put_many([w, ?STAR], 0),
    ok = khepri:put_many(?S, [w, ?STAR], 1),
    ok = khepri:put_many([w, ?STAR], 2, ?O),
    ok = khepri:put_many(?S, [w, ?STAR, leaf], x, ?O),
    {ok, 4} = khepri:count([w, ?STAR, leaf]),
    ok = khepri:create([w, e], 5),
    ok = khepri:create(?S, [w, f], 6),
    ok = khepri:create([w, g], 7, ?O),
    ok = khepri:create(?S, [w, h], 8, ?O),
    {error, ?khepri_error(mismatching_node, _)} = khepri:create([w, h], 9),
    ok = khepri:update([w, e], 50),
    ok = khepri:update(?S, [w, f], 60),
    ok = khepri:update([w, g], 70, ?O),
    ok = khepri:update(?S, [w, h], 80, ?O),
    {error, ?khepri_error(node_not_found, _)} = khepri:update([w, zz], 9),
    ok = khepri:compare_and_swap([w, e], 50, 51),
    ok = khepri:compare_and_swap(?S, [w, f], 60, 61),
    ok = khepri:compare_and_swap([w, g], 70, 71, ?O),
    ok = khepri:compare_and_swap(?S, [w, h], 80, 81, ?O),
    {error, ?khepri_error(node_not_found, _)} = khepri:compare_and_swap([w, zz], '_', 1),
    ok = khepri:clear_payload([w, e]),
    ok = khepri:clear_payload(?S, [w, f]),
    ok = khepri:clear_payload([w, g], ?O),
    ok = khepri:clear_payload(?S, [w, zz], ?O),
    {ok, undefined} = khepri:get([w, e]),
    ok = khepri:clear_many_payloads([w, ?STAR, leaf]),
    ok = khepri:clear_many_payloads(?S, [w, ?STAR]),
    ok = khepri:clear_many_payloads([w], ?O),
    ok = khepri:clear_many_payloads(?S, [w], ?O),
    {ok, #{}} = maps:filter(fun(_, V) -> V =/= undefined end,
                            element(2, khepri:get_many([w, ?KHEPRI_WILDCARD_STAR_STAR])))
        =:= #{} andalso {ok, #{}},
    ok = khepri:delete([w, a]),
    ok = khepri:delete(?S, [w, b]),
    ok = khepri:delete([w, c], ?O),
    ok = khepri:delete(?S, [w, zz], ?O),
    ok = khepri:delete_many([w, e]),
    ok = khepri:delete_many(?S, [w, f]),
    ok = khepri:delete_many([w, ?STAR], ?O),
    ok = khepri:delete_many(?S, "**", ?O),
    true = khepri:is_empty().

bang_variants() ->
    ok = khepri:'put!'([b, a], 1),
    ok = khepri:'put!'(?S, [b, c], 1),
    ok = khepri:'put!'([b, d], 1, ?O),
    1 = khepri:'get!'([b, a]),
    1 = khepri:'get!'(?S, [b, a]),
    1 = khepri:'get!'([b, a], ?O),
    d = khepri:'get_or!'([b, zz], d),
    #{[b, a] := 1} = khepri:'get_many!'([b, ?STAR]),
    #{[b, a] := 1} = khepri:'get_many_or!'([b, ?STAR], d),
    true = khepri:'exists!'([b, a]),
    true = khepri:'has_data!'([b, a]),
    false = khepri:'is_sproc!'([b, a]),
    3 = khepri:'count!'([b, ?STAR]),
    ok = khepri:'create!'([b, e], 1),
    ok = khepri:'update!'([b, e], 2),
    ok = khepri:'compare_and_swap!'([b, e], 2, 3),
    ok = khepri:'put_many!'([b, ?STAR], 0),
    ok = khepri:'clear_payload!'([b, e]),
    ok = khepri:'clear_many_payloads!'([b, ?STAR]),
    ?assertError(?khepri_error(node_not_found, #{node_path := [b, zz]}), khepri:'get!'([b, zz])),
    ?assertError(?khepri_error(mismatching_node, _), khepri:'create!'([b, e], 1)),
    ?assertError(?khepri_error(node_not_found, _), khepri:'update!'(?S, [b, zz], 1, ?O)),
    ok = khepri:'delete!'([b, a]),
    ok = khepri:'delete_many!'([b, ?STAR]),
    false = khepri:'exists!'(?S, [b]).

adv() ->
    {ok, #{[v, a] := #{payload_version := 1}}} = khepri_adv:put([v, a], 1),
    {ok, #{[v, b] := #{}}} = khepri_adv:put(?S, [v, b], 1, #{props_to_return => []}),
    {ok, #{[v, a] := #{data := 1, payload_version := 1}}} = khepri_adv:get([v, a]),
    {ok, #{[v, a] := #{child_list_length := 0, child_names := []}}} =
        khepri_adv:get(?S, [v, a], #{props_to_return => [child_list_length, child_names]}),
    {ok, #{[v] := #{child_names := Names}}} =
        khepri_adv:get([v], #{props_to_return => [child_names]}),
    [a, b] = lists:sort(Names),
    {ok, #{[v, a] := _, [v, b] := _}} = khepri_adv:get_many([v, ?STAR]),
    {ok, #{[v, a] := #{has_data := true, raw_payload := {p_data, 1}}}} =
        khepri_adv:get_many(?S, [v, a], #{props_to_return => [has_payload, raw_payload]}),
    {ok, #{[v, c] := #{payload_version := 1}}} = khepri_adv:create([v, c], 1),
    {ok, #{[v, c] := #{data := 1, payload_version := 2}}} = khepri_adv:update([v, c], 2),
    {ok, #{[v, c] := #{data := 2, payload_version := 3}}} = khepri_adv:compare_and_swap([v, c], 2, 3),
    {ok, #{[v, a] := _, [v, b] := _, [v, c] := _}} = khepri_adv:put_many([v, ?STAR], x),
    {ok, #{[v, a] := #{data := x, payload_version := 3}}} = khepri_adv:clear_payload([v, a]),
    {ok, #{[v, b] := _, [v, c] := _}} = khepri_adv:clear_many_payloads([v, ?STAR]),
    {ok, #{[v, a] := #{delete_reason := explicit}}} = khepri_adv:delete([v, a]),
    {ok, Deleted} = khepri_adv:delete_many([v, ?STAR]),
    [[v], [v, b], [v, c]] = lists:sort(maps:keys(Deleted)),
    #{[v] := #{delete_reason := keep_while}} = Deleted.
