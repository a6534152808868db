%% @doc Path conditions: evaluation, compilation and validation.
%%
%% A condition is one of the records of `include/khepri.hrl' (SPEC 2.10). It
%% is used as a component of a path pattern (it then selects the tree nodes
%% it holds for) and as the value of a `keep_while' map (the node holding the
%% map is deleted once a condition stops holding).
%%
%% Inside `#if_all{}', `#if_any{}' and `#if_not{}', a bare node name (atom or
%% binary) is a condition too: it holds for the node of that name. As a
%% condition, `?THIS_KHEPRI_NODE' always holds.
%%
%% Regular expressions (`#if_name_matches{}', `#if_path_matches{}') follow
%% Erlang's `re' (PCRE). A regex which is not pure ASCII is compiled in
%% Unicode mode: strings are code points and binaries UTF-8, as for paths. A
%% node name is the subject: binaries as they are, atoms as
%% `atom_to_list(Name)' (their UTF-8 bytes when a character is beyond 255).
%%
%% `#if_data_matches{}' runs an ETS match specification on the node's data.
%% The engine evaluates those in Rust, so a match spec it cannot evaluate
%% deterministically on every member is refused when the call is made, by
%% {@link validate_data_matches/1}.

-module(khepri_condition).

-include("khepri.hrl").

-export([ensure_native_keep_while/1,
         compile/1,
         applies_to_grandchildren/1,
         is_met/3,
         is_valid/1,
         validate_data_matches/1]).

%% Deepest nesting of `#if_not{}', `#if_all{}' and `#if_any{}' accepted: the
%% engine bounds its recursion (MAX_CONDITION_DEPTH in
%% native/khepri_nif/src/pattern_codec.rs).
-define(MAX_CONDITION_DEPTH, 100).
-define(MIN_INT64, -(1 bsl 63)).
-define(MAX_INT64, (1 bsl 63) - 1).

-type comparison_op(Type) :: {eq, Type} |
                             {ne, Type} |
                             {lt, Type} |
                             {le, Type} |
                             {gt, Type} |
                             {ge, Type}.
%% A comparison with a value; a bare value means `{eq, Value}'.

-type if_name_matches() :: #if_name_matches{}.
%% Holds if the node's name matches `regex' (`any' matches every name).

-type if_path_matches() :: #if_path_matches{}.
%% Like {@link if_name_matches()}; in a pattern it also matches descendants
%% (`**' is `#if_path_matches{regex = any}': one or more levels).

-type if_has_payload() :: #if_has_payload{}.
%% Holds if the presence of a payload (data or sproc) is `has_payload'.

-type if_has_data() :: #if_has_data{}.
%% Holds if the presence of data is `has_data'.

-type if_has_sproc() :: #if_has_sproc{}.
%% Holds if the presence of a stored procedure is `has_sproc'.

-type if_data_matches() :: #if_data_matches{}.
%% Holds if the node has data matching the ETS match pattern `pattern' with
%% the match-spec guards `conditions'.

-type if_node_exists() :: #if_node_exists{}.
%% Holds if the existence of the node is `exists'.

-type if_payload_version() :: #if_payload_version{}.
%% Holds if the payload version compares as `version' says.

-type if_child_list_version() :: #if_child_list_version{}.
%% Holds if the child list version compares as `version' says.

-type if_child_list_length() :: #if_child_list_length{}.
%% Holds if the number of children compares as `count' says.

-type if_not() :: #if_not{}.
%% Holds if the inner condition does not.

-type if_all() :: #if_all{}.
%% Holds if every inner condition holds (true when empty).

-type if_any() :: #if_any{}.
%% Holds if at least one inner condition holds (false when empty).

-type condition() :: if_name_matches() |
                     if_path_matches() |
                     if_has_payload() |
                     if_has_data() |
                     if_has_sproc() |
                     if_data_matches() |
                     if_node_exists() |
                     if_payload_version() |
                     if_child_list_version() |
                     if_child_list_length() |
                     if_not() |
                     if_all() |
                     if_any().
%% Every condition record.

-type keep_while() :: #{khepri_path:path() => condition()}.
%% `keep_while' put option: the node is kept as long as, for each entry, the
%% condition holds on every node the key matches. Keys may be Unix-like
%% paths and relative to the node being written.

-type native_keep_while() :: #{khepri_path:native_path() => condition()}.
%% {@link keep_while()} with every key parsed to a native path.

-type is_met_ret() :: true |
                      {false, khepri_path:pattern_component()} |
                      {false, {condition(), Detail :: term()}}.
%% Result of {@link is_met/3}: `true', or the condition which failed
%% (possibly an inner one), with a detail when evaluation itself failed (for
%% instance an invalid regex).

-export_type([condition/0,
              comparison_op/1,
              keep_while/0,
              native_keep_while/0,
              is_met_ret/0,
              if_name_matches/0,
              if_path_matches/0,
              if_has_payload/0,
              if_has_data/0,
              if_has_sproc/0,
              if_data_matches/0,
              if_node_exists/0,
              if_payload_version/0,
              if_child_list_version/0,
              if_child_list_length/0,
              if_not/0,
              if_all/0,
              if_any/0]).

%% -------------------------------------------------------------------
%% keep_while.
%% -------------------------------------------------------------------

-spec ensure_native_keep_while(KeepWhile) -> NativeKeepWhile when
      KeepWhile :: keep_while(),
      NativeKeepWhile :: native_keep_while().
%% @doc Parses the keys of a `keep_while' map into native paths.
%%
%% Keys go through `khepri_path:from_string/1' and
%% `khepri_path:ensure_is_valid/1', so a bad key raises
%% `?khepri_exception(invalid_path, ...)' exactly as they do. Keys stay
%% relative: the caller resolves them against the node being written.
%%
%% The value is checked too, because it is evaluated by the engine at apply
%% time: a value that is not a valid condition, or a `KeepWhile' that is not
%% a map, raises `?khepri_exception(invalid_option, #{option => keep_while,
%% value => KeepWhile})'; an `#if_data_matches{}' the engine cannot evaluate
%% raises `unsupported_condition' (see {@link validate_data_matches/1}).
%%
%% Two keys resolving to the same native path (say `"foo"' and `[foo]') are
%% both kept, combined as `#if_all{conditions = [C1, C2]}' in the keys' term
%% order, so that the result does not depend on map iteration order.

ensure_native_keep_while(KeepWhile) when is_map(KeepWhile) ->
    lists:foldl(
      fun({Key, Condition}, Acc) ->
              Path = khepri_path:from_string(Key),
              ok = khepri_path:ensure_is_valid(Path),
              case is_valid(Condition) of
                  true ->
                      ok;
                  {false, _} ->
                      erlang:error(
                        ?khepri_exception(
                           invalid_option,
                           #{option => keep_while, value => KeepWhile}))
              end,
              ok = validate_data_matches(Condition),
              case Acc of
                  #{Path := Condition} ->
                      Acc;
                  #{Path := Previous} ->
                      Acc#{Path => #if_all{conditions = [Previous,
                                                         Condition]}};
                  _ ->
                      Acc#{Path => Condition}
              end
      end, #{}, lists:sort(maps:to_list(KeepWhile)));
ensure_native_keep_while(KeepWhile) ->
    erlang:error(
      ?khepri_exception(
         invalid_option, #{option => keep_while, value => KeepWhile})).

%% -------------------------------------------------------------------
%% Compilation.
%% -------------------------------------------------------------------

-spec compile(Condition) -> Condition when
      Condition :: khepri_path:pattern_component().
%% @doc Fills the `compiled' caches of a condition, recursively.
%%
%% <ul>
%% <li>`#if_name_matches{}' and `#if_path_matches{}' get the compiled `re'
%% pattern (`unicode' when the regex is not pure ASCII), or `{error,
%% Reason}' when the regex does not compile; `regex = any' needs
%% nothing.</li>
%% <li>`#if_data_matches{}' gets `ets:match_spec_compile([{Pattern,
%% Conditions, [match]}])', or `{error, badarg}' when that fails.</li>
%% <li>`#if_not{}', `#if_all{}' and `#if_any{}' have their inner conditions
%% compiled; nothing else changes (no reordering, no collapsing), so the
%% terms {@link is_met/3} reports keep their shape.</li>
%% </ul>
%%
%% An already filled cache is kept, so `compile(compile(C)) =:= compile(C)'.
%% Names and other conditions are returned unchanged. It never raises: an
%% error found here is reported by {@link is_met/3}.
%%
%% The caches are local to this node (a compiled match spec is a reference):
%% they must not be sent to other members or stored.

compile(#if_name_matches{regex = any} = Condition) ->
    Condition;
compile(#if_name_matches{regex = Regex, compiled = undefined} = Condition) ->
    Condition#if_name_matches{compiled = compile_regex(Regex)};
compile(#if_path_matches{regex = any} = Condition) ->
    Condition;
compile(#if_path_matches{regex = Regex, compiled = undefined} = Condition) ->
    %% Upstream leaves this one to be compiled at each evaluation; it is the
    %% one evaluated the most (on every descendant), so it is compiled here.
    Condition#if_path_matches{compiled = compile_regex(Regex)};
compile(#if_data_matches{compiled = undefined} = Condition) ->
    Condition#if_data_matches{compiled = compile_match_spec(Condition)};
compile(#if_not{condition = Inner} = Condition) ->
    Condition#if_not{condition = compile(Inner)};
compile(#if_all{conditions = Inners} = Condition) ->
    Condition#if_all{conditions = map_list(fun compile/1, Inners)};
compile(#if_any{conditions = Inners} = Condition) ->
    Condition#if_any{conditions = map_list(fun compile/1, Inners)};
compile(Other) ->
    Other.

%% Maps over a list, leaving anything that is not a proper list (an invalid
%% condition) as it is, so that compile/1 never raises.
map_list(Fun, [Head | Tail]) ->
    [Fun(Head) | map_list(Fun, Tail)];
map_list(_Fun, Other) ->
    Other.

compile_regex(Regex) ->
    Options = case needs_unicode(Regex) of
                  true  -> [unicode];
                  false -> []
              end,
    try re:compile(Regex, Options) of
        {ok, MP}           -> MP;
        {error, _} = Error -> Error
    catch
        error:badarg -> {error, badarg}
    end.

%% A regex needs Unicode mode when it has non-ASCII characters: strings are
%% code points and binaries UTF-8. Bytes which are not valid UTF-8 can only
%% be matched byte-wise, as upstream always does.
needs_unicode(Regex) when is_binary(Regex) ->
    not is_ascii(Regex) andalso is_utf8(Regex);
needs_unicode(Regex) when is_list(Regex) ->
    try unicode:characters_to_binary(Regex) of
        Binary when is_binary(Binary) -> not is_ascii(Binary);
        _                             -> false
    catch
        error:_ -> false
    end;
needs_unicode(_Regex) ->
    false.

is_ascii(<<Byte, Rest/binary>>) when Byte < 128 -> is_ascii(Rest);
is_ascii(<<>>)                                  -> true;
is_ascii(_)                                     -> false.

is_utf8(Binary) ->
    is_list(unicode:characters_to_list(Binary, utf8)).

compile_match_spec(#if_data_matches{pattern = Pattern,
                                    conditions = Guards}) ->
    try
        ets:match_spec_compile([{Pattern, Guards, [match]}])
    catch
        error:badarg -> {error, badarg}
    end.

%% -------------------------------------------------------------------
%% Evaluation.
%% -------------------------------------------------------------------

-spec applies_to_grandchildren(Condition) -> boolean() when
      Condition :: khepri_path:pattern_component().
%% @doc Tells whether a pattern component must also be tried on the
%% descendants of the nodes it is evaluated on.
%%
%% True for `#if_path_matches{}' and for any `#if_not{}', `#if_all{}' or
%% `#if_any{}' containing one.

applies_to_grandchildren(#if_path_matches{}) ->
    true;
applies_to_grandchildren(#if_not{condition = Inner}) ->
    applies_to_grandchildren(Inner);
applies_to_grandchildren(#if_all{conditions = Inners}) ->
    any_in_list(fun applies_to_grandchildren/1, Inners);
applies_to_grandchildren(#if_any{conditions = Inners}) ->
    any_in_list(fun applies_to_grandchildren/1, Inners);
applies_to_grandchildren(_Other) ->
    false.

any_in_list(Pred, [Head | Tail]) ->
    Pred(Head) orelse any_in_list(Pred, Tail);
any_in_list(_Pred, _EndOrImproper) ->
    false.

-spec is_met(Condition, PathOrName, NodeProps) -> IsMet when
      Condition :: khepri_path:pattern_component(),
      PathOrName :: khepri_path:native_path() | khepri_path:node_id(),
      NodeProps :: khepri:node_props(),
      IsMet :: is_met_ret().
%% @doc Evaluates a condition on an existing node.
%%
%% `PathOrName' is the node's native path (its last component is the name;
%% the root, `[]', is named by the empty atom) or its name. `NodeProps' are
%% the node's properties (SPEC 1.4): `data' or `sproc' (or the `has_data' /
%% `is_sproc' flags, or `raw_payload'), `payload_version',
%% `child_list_version', `child_list_length' (or `child_names'); a property
%% the condition needs but which is absent makes it false.
%%
%% Returns `true' or `{false, Failed}', `Failed' being the condition which
%% does not hold: the argument itself, or for `#if_all{}' the first inner
%% condition found false (bare names are tested first). When evaluation
%% fails, `{false, {Condition, Detail}}': `Detail' is `{error, Reason}' from
%% `re' for a bad regex, `{error, badarg}' for a match spec ETS refuses.
%%
%% A `PathOrName' which is an improper list raises
%% `?khepri_exception(invalid_path, #{path => PathOrName})', as path
%% arguments do everywhere. Malformed `NodeProps' values (say `child_names'
%% not a proper list) do not raise: as upstream, a property which is not
%% there in the expected form makes the condition false.

is_met(Condition, Path, NodeProps) when is_list(Path) ->
    is_met(Condition, last_name(Path, Path), NodeProps);
is_met(Name, Name, _NodeProps) when ?IS_KHEPRI_PATH_COMPONENT(Name) ->
    true;
is_met(?THIS_KHEPRI_NODE, _Name, _NodeProps) ->
    true;
is_met(OtherName, _Name, _NodeProps)
  when ?IS_KHEPRI_PATH_COMPONENT(OtherName) ->
    {false, OtherName};
is_met(#if_node_exists{exists = true}, _Name, _NodeProps) ->
    %% Conditions are evaluated on existing nodes only; the caller deals with
    %% `exists = false' on a missing node.
    true;
is_met(#if_name_matches{regex = Regex, compiled = Compiled} = Condition,
       Name, _NodeProps) ->
    eval_regex(Condition, Regex, Compiled, Name);
is_met(#if_path_matches{regex = Regex, compiled = Compiled} = Condition,
       Name, _NodeProps) ->
    eval_regex(Condition, Regex, Compiled, Name);
is_met(#if_has_payload{has_payload = Expected} = Condition,
       _Name, NodeProps) ->
    HasPayload = has_data(NodeProps) orelse has_sproc(NodeProps),
    expect(Condition, HasPayload, Expected);
is_met(#if_has_data{has_data = Expected} = Condition, _Name, NodeProps) ->
    expect(Condition, has_data(NodeProps), Expected);
is_met(#if_has_sproc{has_sproc = Expected} = Condition, _Name, NodeProps) ->
    expect(Condition, has_sproc(NodeProps), Expected);
is_met(#if_data_matches{} = Condition, _Name, NodeProps) ->
    case data(NodeProps) of
        {ok, Data} -> eval_match_spec(Condition, Data);
        error      -> {false, Condition}
    end;
is_met(#if_payload_version{version = Expected} = Condition,
       _Name, #{payload_version := Version}) ->
    compare(Condition, Version, Expected);
is_met(#if_child_list_version{version = Expected} = Condition,
       _Name, #{child_list_version := Version}) ->
    compare(Condition, Version, Expected);
is_met(#if_child_list_length{count = Expected} = Condition,
       _Name, NodeProps) ->
    case child_list_length(NodeProps) of
        {ok, Count} -> compare(Condition, Count, Expected);
        error       -> {false, Condition}
    end;
is_met(#if_not{condition = Inner} = Condition, Name, NodeProps) ->
    case is_met(Inner, Name, NodeProps) of
        true       -> {false, Condition};
        {false, _} -> true
    end;
is_met(#if_all{conditions = Inners} = Condition, Name, NodeProps) ->
    case is_proper_list(Inners) of
        true ->
            %% Names first: they are the cheapest and the most selective.
            {Names, Others} = lists:partition(
                                fun(Inner) ->
                                        ?IS_KHEPRI_PATH_COMPONENT(Inner)
                                end, Inners),
            all_met(Names ++ Others, Name, NodeProps);
        false ->
            {false, Condition}
    end;
is_met(#if_any{conditions = Inners} = Condition, Name, NodeProps) ->
    case is_proper_list(Inners) andalso any_met(Inners, Name, NodeProps) of
        true  -> true;
        false -> {false, Condition}
    end;
is_met(Condition, _Name, _NodeProps) ->
    %% `#if_node_exists{exists = false}' (the node exists), a property the
    %% condition needs is absent, or not a condition at all.
    {false, Condition}.

%% The name of the node at `Path': its last component, `' for the root.
last_name([], _Path)           -> '';
last_name([Name], _Path)       -> Name;
last_name([_ | Rest], Path)    -> last_name(Rest, Path);
last_name(_ImproperTail, Path) ->
    erlang:error(?khepri_exception(invalid_path, #{path => Path})).

expect(_Condition, Value, Value) -> true;
expect(Condition, _Value, _Expected) -> {false, Condition}.

all_met([Inner | Rest], Name, NodeProps) ->
    case is_met(Inner, Name, NodeProps) of
        true  -> all_met(Rest, Name, NodeProps);
        False -> False
    end;
all_met([], _Name, _NodeProps) ->
    true.

any_met([Inner | Rest], Name, NodeProps) ->
    is_met(Inner, Name, NodeProps) =:= true orelse
    any_met(Rest, Name, NodeProps);
any_met([], _Name, _NodeProps) ->
    false.

%% The record types promise proper lists, but a term built by hand (or in
%% another language) may not keep that promise: evaluation must not crash.
is_proper_list(List) ->
    try length(List) of
        _ -> true
    catch
        error:badarg -> false
    end.

%% The node props a read returns depend on `props_to_return': accept every
%% form that tells about the payload.
has_data(#{data := _})                  -> true;
has_data(#{has_data := true})           -> true;
has_data(#{raw_payload := {p_data, _}}) -> true;
has_data(_NodeProps)                    -> false.

has_sproc(#{sproc := _})                     -> true;
has_sproc(#{is_sproc := true})               -> true;
has_sproc(#{raw_payload := {p_sproc, _, _}}) -> true;
has_sproc(_NodeProps)                        -> false.

data(#{data := Data})                  -> {ok, Data};
data(#{raw_payload := {p_data, Data}}) -> {ok, Data};
data(_NodeProps)                       -> error.

child_list_length(#{child_list_length := Count}) ->
    {ok, Count};
child_list_length(#{child_names := Names}) ->
    case is_proper_list(Names) of
        true  -> {ok, length(Names)};
        false -> error
    end;
child_list_length(_NodeProps) ->
    error.

eval_regex(_Condition, any, _Compiled, _Name) ->
    true;
eval_regex(Condition, Regex, undefined, Name) ->
    eval_regex(Condition, Regex, compile_regex(Regex), Name);
eval_regex(Condition, Regex, {ok, MP}, Name) ->
    %% The form upstream stores in `compiled'.
    eval_regex(Condition, Regex, MP, Name);
eval_regex(Condition, _Regex, {error, _} = Error, _Name) ->
    {false, {Condition, Error}};
eval_regex(Condition, _Regex, MP, Name) ->
    case regex_subject(Name) of
        {ok, Subject} -> run_regex(Condition, MP, Subject);
        error         -> {false, Condition}
    end.

%% Atoms are matched as `atom_to_list/1' (as upstream) unless a character is
%% beyond Latin-1: a list like that cannot be the subject of a non-Unicode
%% regex, so the UTF-8 bytes are used instead. Special components are not
%% node names and match nothing.
regex_subject(Name) when is_binary(Name) ->
    {ok, Name};
regex_subject(Name) when is_atom(Name) ->
    Chars = atom_to_list(Name),
    case lists:all(fun(Char) -> Char =< 255 end, Chars) of
        true  -> {ok, Chars};
        false -> {ok, atom_to_binary(Name, utf8)}
    end;
regex_subject(_Other) ->
    error.

run_regex(Condition, MP, Subject) ->
    try re:run(Subject, MP, [{capture, none}, report_errors]) of
        match              -> true;
        nomatch            -> {false, Condition};
        {error, _} = Error -> {false, {Condition, Error}}
    catch
        error:badarg ->
            case is_binary(Subject) andalso not is_utf8(Subject) of
                true ->
                    %% A name which is not UTF-8 cannot match a Unicode
                    %% regex.
                    {false, Condition};
                false ->
                    {false, {Condition, {error, badarg}}}
            end
    end.

eval_match_spec(#if_data_matches{compiled = Compiled} = Condition, Data) ->
    %% A compiled match spec is only valid in the VM which compiled it: one
    %% received from elsewhere is compiled again.
    MatchSpec = case Compiled =/= undefined andalso
                     ets:is_compiled_ms(Compiled) of
                    true  -> Compiled;
                    false -> compile_match_spec(Condition)
                end,
    case MatchSpec of
        {error, _} = Error ->
            {false, {Condition, Error}};
        _ ->
            case ets:match_spec_run([Data], MatchSpec) of
                [match] -> true;
                []      -> {false, Condition}
            end
    end.

compare(Condition, Value, Expected) ->
    case compare(Value, Expected) of
        true  -> true;
        false -> {false, Condition}
    end.

compare(Value, Value)          -> true;
compare(Value, {eq, Expected}) -> Value =:= Expected;
compare(Value, {ne, Expected}) -> Value =/= Expected;
compare(Value, {lt, Expected}) -> Value < Expected;
compare(Value, {le, Expected}) -> Value =< Expected;
compare(Value, {gt, Expected}) -> Value > Expected;
compare(Value, {ge, Expected}) -> Value >= Expected;
compare(_Value, _Expected)     -> false.

%% -------------------------------------------------------------------
%% Validation.
%% -------------------------------------------------------------------

-spec is_valid(Condition) -> IsValid when
      Condition :: khepri_path:pattern_component() | term(),
      IsValid :: true | {false, khepri_path:pattern_component() | term()}.
%% @doc Checks that a condition (or a name) is well formed.
%%
%% Returns `true' or `{false, Culprit}', `Culprit' being the innermost
%% invalid part. `khepri_path:is_valid_component/1' uses it for every
%% pattern component which is not a name or a special component.
%%
%% Valid means the engine can take it, so that the API refuses the rest
%% when the call is made (`invalid_path', or `invalid_option' for a
%% `keep_while' value) instead of the engine failing on it:
%% <ul>
%% <li>a node name (atom or binary), `?THIS_KHEPRI_NODE' (always true) and
%% `?PARENT_KHEPRI_NODE' (accepted here so that the caller raises the more
%% precise `condition_targets_parent_node'); `?KHEPRI_ROOT_NODE' is not a
%% condition (only a path component);</li>
%% <li>`regex': `any', a UTF-8 binary or a proper list of Unicode code
%% points (a flat string);</li>
%% <li>`version' and `count': an integer in `0..2^63-1' or `{Op, Integer}'
%% with `Op' in `eq ne lt le gt ge' and a signed 64-bit `Integer';</li>
%% <li>`has_payload', `has_data', `has_sproc', `exists': booleans;</li>
%% <li>`#if_data_matches{}' `conditions': a list (the match spec itself is
%% checked by {@link validate_data_matches/1});</li>
%% <li>`#if_all{}'/`#if_any{}' `conditions': a proper list (the record is the
%% culprit otherwise) of valid conditions;</li>
%% <li>at most 100 nested `#if_not{}'/`#if_all{}'/`#if_any{}'
%% (the first one too deep is the culprit): the engine bounds its
%% recursion.</li>
%% </ul>

is_valid(Condition) ->
    is_valid(Condition, 0).

%% `Depth' is the number of `#if_not{}', `#if_all{}' and `#if_any{}' around
%% `Condition'.
is_valid(Name, _Depth) when ?IS_KHEPRI_NODE_ID(Name) ->
    true;
is_valid(?THIS_KHEPRI_NODE, _Depth) ->
    true;
is_valid(?PARENT_KHEPRI_NODE, _Depth) ->
    true;
is_valid(#if_name_matches{regex = Regex} = Condition, _Depth) ->
    valid_if(is_valid_regex(Regex), Condition);
is_valid(#if_path_matches{regex = Regex} = Condition, _Depth) ->
    valid_if(is_valid_regex(Regex), Condition);
is_valid(#if_has_payload{has_payload = Flag} = Condition, _Depth) ->
    valid_if(is_boolean(Flag), Condition);
is_valid(#if_has_data{has_data = Flag} = Condition, _Depth) ->
    valid_if(is_boolean(Flag), Condition);
is_valid(#if_has_sproc{has_sproc = Flag} = Condition, _Depth) ->
    valid_if(is_boolean(Flag), Condition);
is_valid(#if_node_exists{exists = Flag} = Condition, _Depth) ->
    valid_if(is_boolean(Flag), Condition);
is_valid(#if_data_matches{conditions = Guards} = Condition, _Depth) ->
    valid_if(is_list(Guards), Condition);
is_valid(#if_payload_version{version = Version} = Condition, _Depth) ->
    valid_if(is_valid_comparison(Version), Condition);
is_valid(#if_child_list_version{version = Version} = Condition, _Depth) ->
    valid_if(is_valid_comparison(Version), Condition);
is_valid(#if_child_list_length{count = Count} = Condition, _Depth) ->
    valid_if(is_valid_comparison(Count), Condition);
is_valid(Condition, Depth)
  when Depth >= ?MAX_CONDITION_DEPTH andalso
       (is_record(Condition, if_not) orelse
        is_record(Condition, if_all) orelse
        is_record(Condition, if_any)) ->
    {false, Condition};
is_valid(#if_not{condition = Inner}, Depth) ->
    is_valid(Inner, Depth + 1);
is_valid(#if_all{conditions = Inners} = Condition, Depth) ->
    all_valid(Inners, Condition, Depth + 1);
is_valid(#if_any{conditions = Inners} = Condition, Depth) ->
    all_valid(Inners, Condition, Depth + 1);
is_valid(Other, _Depth) ->
    %% `?KHEPRI_ROOT_NODE' included: the engine has no such condition.
    {false, Other}.

valid_if(true, _Condition)  -> true;
valid_if(false, Condition)  -> {false, Condition}.

%% An improper list makes the `#if_all{}'/`#if_any{}' holding it the culprit,
%% whatever its elements.
all_valid(Inners, Condition, Depth) ->
    case is_proper_list(Inners) of
        true  -> all_valid(Inners, Depth);
        false -> {false, Condition}
    end.

all_valid([Inner | Rest], Depth) ->
    case is_valid(Inner, Depth) of
        true  -> all_valid(Rest, Depth);
        False -> False
    end;
all_valid([], _Depth) ->
    true.

%% The forms the engine decodes: a string must be flat code points (no
%% surrogates, at most 16#10FFFF), a binary must be valid UTF-8.
is_valid_regex(any) ->
    true;
is_valid_regex(Regex) when is_binary(Regex) ->
    is_utf8(Regex);
is_valid_regex(Regex) ->
    is_code_points(Regex).

is_code_points([Char | Rest])
  when is_integer(Char) andalso
       ((Char >= 0 andalso Char < 16#D800) orelse
        (Char > 16#DFFF andalso Char =< 16#10FFFF)) ->
    is_code_points(Rest);
is_code_points([]) ->
    true;
is_code_points(_) ->
    false.

%% The engine stores versions and counts as signed 64-bit integers; a bare
%% value is a version or count, so it cannot be negative.
is_valid_comparison(Value) when is_integer(Value) ->
    Value >= 0 andalso Value =< ?MAX_INT64;
is_valid_comparison({Op, Value}) when is_integer(Value) ->
    lists:member(Op, [eq, ne, lt, le, gt, ge]) andalso
    Value >= ?MIN_INT64 andalso Value =< ?MAX_INT64;
is_valid_comparison(_) ->
    false.

-spec validate_data_matches(ConditionOrPattern) -> ok when
      ConditionOrPattern :: khepri_path:pattern_component() |
                            khepri_path:native_pattern().
%% @doc Refuses `#if_data_matches{}' conditions the engine cannot evaluate.
%%
%% Takes a condition (inner conditions of `#if_not{}', `#if_all{}' and
%% `#if_any{}' included) or a whole native pattern, and returns `ok' when
%% every `#if_data_matches{}' in it is fine. Otherwise it raises
%% `?khepri_exception(unsupported_condition, #{condition => C, reason => R})'
%% with `C' the offending `#if_data_matches{}' and `R':
%% <ul>
%% <li>`{non_deterministic_guard, F}' when a guard calls `self()', `node()'
%% or `get_tcw' (`F' is `self', `node' or `get_tcw'), anywhere but inside
%% `{const, _}': they would give a different answer on each member;</li>
%% <li>`invalid_match_spec' when the engine's match-spec compiler refuses
%% it (the guards it evaluates are those of SPEC 2.10, a superset of what
%% OTP 25's `ets:match_spec_compile/1' accepts: `min', `max',
%% `tuple_size'...).</li>
%% </ul>
%% Call it when a pattern or `keep_while' map enters the API: the engine
%% applies commands in Rust and must never meet those at apply time.

validate_data_matches(#if_data_matches{pattern = Pattern,
                                       conditions = Guards} = Condition) ->
    case find_non_deterministic_guard(Guards) of
        {found, Function} ->
            unsupported_condition(Condition,
                                  {non_deterministic_guard, Function});
        none ->
            %% The engine evaluates match specs itself: ask it, so what is
            %% accepted here is exactly what it can evaluate at apply time.
            case khepri_nif:check_data_match(Pattern, Guards) of
                ok -> ok;
                {error, _} -> unsupported_condition(Condition, invalid_match_spec)
            end
    end;
validate_data_matches(#if_not{condition = Inner}) ->
    validate_data_matches(Inner);
validate_data_matches(#if_all{conditions = Inners}) ->
    validate_each(Inners);
validate_data_matches(#if_any{conditions = Inners}) ->
    validate_each(Inners);
validate_data_matches(Pattern) when is_list(Pattern) ->
    validate_each(Pattern);
validate_data_matches(_Other) ->
    ok.

validate_each([Head | Tail]) ->
    ok = validate_data_matches(Head),
    validate_each(Tail);
validate_each(_EndOrImproper) ->
    ok.

unsupported_condition(Condition, Reason) ->
    erlang:error(?khepri_exception(unsupported_condition,
                                   #{condition => Condition,
                                     reason => Reason})).

%% Guard expressions are terms: `{F, Args...}' is a call, `{{...}}' builds a
%% tuple, lists and maps build lists and maps, `{const, T}' is a literal.
%% Every part except literals is searched, so nested calls are found too.
find_non_deterministic_guard({const, _Literal}) ->
    none;
find_non_deterministic_guard({Function})
  when Function =:= self orelse Function =:= node orelse
       Function =:= get_tcw ->
    {found, Function};
find_non_deterministic_guard(Tuple) when is_tuple(Tuple) ->
    find_in_list(tuple_to_list(Tuple));
find_non_deterministic_guard(List) when is_list(List) ->
    find_in_list(List);
find_non_deterministic_guard(Map) when is_map(Map) ->
    find_in_list(maps:keys(Map) ++ maps:values(Map));
find_non_deterministic_guard(_Leaf) ->
    none.

find_in_list([Head | Tail]) ->
    case find_non_deterministic_guard(Head) of
        none  -> find_in_list(Tail);
        Found -> Found
    end;
find_in_list([]) ->
    none;
find_in_list(ImproperTail) ->
    find_non_deterministic_guard(ImproperTail).
