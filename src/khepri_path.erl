%% @doc Khepri path API.
%%
%% A <em>native path</em> is a list of components: atoms and binaries (node
%% ids) plus the special components `?KHEPRI_ROOT_NODE' (`$/'),
%% `?THIS_KHEPRI_NODE' (`$.') and `?PARENT_KHEPRI_NODE' (`$^'). A <em>native
%% pattern</em> may also hold conditions (see `khepri_condition'), for
%% instance:
%%
%% ```
%% [stock, #if_all{conditions = [wood, #if_has_data{}]}, <<"oak">>]
%% '''
%%
%% Most functions of the API also accept <em>Unix-like paths</em>, strings or
%% binaries such as `"/:stock/:wood/oak"', converted by {@link from_string/1}.
%% Their syntax:
%% <ul>
%% <li>components are separated by `/'; a leading `/' makes the path
%% absolute, otherwise it is relative (a leading `?THIS_KHEPRI_NODE' is
%% added); a trailing `/' is ignored; `//' is an empty binary component;</li>
%% <li>`:name' is an atom, anything else a binary;</li>
%% <li>`.' and `..' are `?THIS_KHEPRI_NODE' and `?PARENT_KHEPRI_NODE'; `^' is
%% `?PARENT_KHEPRI_NODE' only as the whole path or before a leading `/';</li>
%% <li>`*' and `**' are `?KHEPRI_WILDCARD_STAR' and
%% `?KHEPRI_WILDCARD_STAR_STAR'; any other `*' in a binary component makes it
%% a glob, `#if_name_matches{regex = "^...$"}' with each `*' as `.*';</li>
%% <li>`%XX' is percent-decoded (after the checks above, before glob
%% detection) in atoms and binaries.</li>
%% </ul>
%%
%% Strings are lists of Unicode code points and binaries are UTF-8: a
%% component's text is encoded as UTF-8, binary components keep those bytes,
%% atoms are made with `binary_to_atom(_, utf8)'. Parsing a path may create
%% atoms: parse untrusted input with care.
%%
%% {@link to_string/1} is the reverse of {@link from_string/1} for native
%% paths: `from_string(to_string(P)) =:= P' whenever the binary components of
%% `P' contain no `*' (it would be encoded as `%2A', which parses back as a
%% glob) and `P' uses no `?KHEPRI_ROOT_NODE'.

-module(khepri_path).

-include("khepri.hrl").

-export([compile/1,
         from_string/1,
         from_binary/1,
         to_string/1,
         to_binary/1,
         sigil_p/2,
         sigil_P/2,
         combine_with_conditions/2,
         targets_specific_node/1,
         component_targets_specific_node/1,
         component_targets_specific_siblings/1,
         is_valid/1,
         is_valid_component/1,
         ensure_is_valid/1,
         abspath/2,
         realpath/1,
         pattern_includes_root_node/1]).

-type node_id() :: atom() | binary().
%% The name of a tree node.

-type component() :: node_id() |
                     ?KHEPRI_ROOT_NODE |
                     ?THIS_KHEPRI_NODE |
                     ?PARENT_KHEPRI_NODE.
%% A component of a native path.

-type pattern_component() :: component() | khepri_condition:condition().
%% A component of a native pattern: a path component or a condition.

-type native_path() :: [component()].
%% A path as a list of components; it targets at most one node.

-type native_pattern() :: [pattern_component()].
%% A path which may contain conditions; it may match any number of nodes.

-type unix_path() :: string() | binary().
%% A Unix-like path, see the module documentation for its syntax.

-type unix_pattern() :: string() | binary().
%% A Unix-like path which may contain `*' and `**'.

-type path() :: native_path() | unix_path().
%% A native or Unix-like path.

-type pattern() :: native_pattern() | unix_pattern().
%% A native or Unix-like pattern.

-export_type([node_id/0,
              component/0,
              pattern_component/0,
              native_path/0,
              native_pattern/0,
              unix_path/0,
              unix_pattern/0,
              path/0,
              pattern/0]).

-define(INVALID_PATH(Path),
        erlang:error(?khepri_exception(invalid_path, #{path => Path}))).
-define(INVALID_PATH(Path, Component),
        erlang:error(?khepri_exception(invalid_path,
                                       #{path => Path,
                                         component => Component}))).

%% -------------------------------------------------------------------
%% Compilation.
%% -------------------------------------------------------------------

-spec compile(Pattern) -> Pattern when
      Pattern :: native_pattern().
%% @doc Prepares a native pattern for repeated evaluation.
%%
%% Each condition goes through `khepri_condition:compile/1', which fills the
%% `compiled' cache fields for evaluation in this VM (the engine evaluates
%% conditions itself and never sees these fields); names are left as they
%% are.
%%
%% A pattern which is not a proper list raises
%% `?khepri_exception(invalid_path, #{path => Pattern})'.
%%
%% @private

compile(Pattern) ->
    ok = ensure_proper_list(Pattern),
    lists:map(fun compile_component/1, Pattern).

compile_component(Component) when is_atom(Component); is_binary(Component);
                                  is_integer(Component) ->
    Component;
compile_component(Condition) ->
    khepri_condition:compile(Condition).

%% -------------------------------------------------------------------
%% Parsing Unix-like paths.
%% -------------------------------------------------------------------

-spec from_string(Pattern) -> NativePattern when
      Pattern :: pattern(),
      NativePattern :: native_pattern().
%% @doc Converts a Unix-like path (string or binary) to a native pattern.
%%
%% A native pattern is accepted too and returned unchanged, except that a
%% leading `?KHEPRI_ROOT_NODE' is dropped. A list holding only integers is a
%% string; a list holding anything else is a native pattern.
%%
%% Raises `?khepri_exception(invalid_path, #{path => Path})' when `Path' is
%% neither (with a `component' key when one component is to blame, such as a
%% name that cannot become an atom).

from_string(Binary) when is_binary(Binary) ->
    parse(Binary, Binary);
from_string(List) when is_list(List) ->
    case list_kind(List) of
        string ->
            %% Strings are code points: encode them once, then the parser
            %% works on UTF-8 bytes for both input types.
            case unicode:characters_to_binary(List) of
                Binary when is_binary(Binary) -> parse(Binary, List);
                _                             -> ?INVALID_PATH(List)
            end;
        native ->
            from_native(List);
        improper ->
            ?INVALID_PATH(List)
    end;
from_string(NotPath) ->
    ?INVALID_PATH(NotPath).

-spec from_binary(Pattern) -> NativePattern when
      Pattern :: pattern(),
      NativePattern :: native_pattern().
%% @doc Converts a Unix-like path to a native pattern.
%%
%% Same as {@link from_string/1}: it accepts strings, binaries and native
%% patterns alike.

from_binary(Pattern) ->
    from_string(Pattern).

-spec sigil_p(Pattern, Options) -> NativePattern when
      Pattern :: pattern(),
      Options :: [char()],
      NativePattern :: native_pattern().
%% @doc Elixir `~p' sigil: `~p"/:stock/:wood/oak"'.
%%
%% The string is interpolated by Elixir before the call. Options are
%% ignored. Same as {@link from_string/1}.

sigil_p(Pattern, _Options) ->
    from_string(Pattern).

-spec sigil_P(Pattern, Options) -> NativePattern when
      Pattern :: pattern(),
      Options :: [char()],
      NativePattern :: native_pattern().
%% @doc Elixir `~P' sigil: like `~p' but without interpolation.
%%
%% Options are ignored. Same as {@link from_string/1}.

sigil_P(Pattern, _Options) ->
    from_string(Pattern).

%% Tells a string (only integers) from a native pattern (anything else in it).
%% `[]' is the root either way.
list_kind(List) ->
    list_kind(List, string).

list_kind([Char | Rest], Kind) when is_integer(Char) ->
    list_kind(Rest, Kind);
list_kind([_ | Rest], _Kind) ->
    list_kind(Rest, native);
list_kind([], Kind) ->
    Kind;
list_kind(_ImproperTail, _Kind) ->
    improper.

%% A native pattern is returned as is, so that callers may pass either form.
%% Integers in it can only be special components: anything else means a
%% string and native components were mixed up, which has no meaning.
from_native(Pattern) ->
    lists:foreach(
      fun
          (Char) when is_integer(Char) andalso
                      not ?IS_SPECIAL_KHEPRI_PATH_COMPONENT(Char) ->
              ?INVALID_PATH(Pattern, Char);
          (_) ->
              ok
      end, Pattern),
    case Pattern of
        [?KHEPRI_ROOT_NODE | Rest] -> Rest;
        _                          -> Pattern
    end.

%% `Original' is the caller's argument, reported in exceptions.
parse(<<>>, _Original) ->
    [];
parse(Binary, Original) ->
    case binary:split(Binary, <<"/">>, [global]) of
        [<<>> | Segments] ->
            %% Absolute path: the leading `/' gave an empty first segment.
            [parse_segment(Segment, Original)
             || Segment <- drop_trailing_slash(Segments)];
        [<<"^">> | Segments] ->
            %% `^' is the parent node only here: as the whole path or before
            %% a leading `/'. Elsewhere it is an ordinary name.
            [?PARENT_KHEPRI_NODE |
             [parse_segment(Segment, Original)
              || Segment <- drop_trailing_slash(Segments)]];
        Segments ->
            make_relative(
              [parse_segment(Segment, Original)
               || Segment <- drop_trailing_slash(Segments)])
    end.

%% A trailing `/' ends the path: it does not add an empty component.
drop_trailing_slash(Segments) ->
    case lists:reverse(Segments) of
        [<<>> | Rest] -> lists:reverse(Rest);
        _             -> Segments
    end.

%% A relative path starting with a name is made explicit with a leading
%% `?THIS_KHEPRI_NODE'. As upstream, a path starting with a special component
%% or a condition (`"*"', `"a*"') is left as it is.
make_relative([First | _] = Components) when ?IS_KHEPRI_NODE_ID(First) ->
    [?THIS_KHEPRI_NODE | Components];
make_relative(Components) ->
    Components.

%% The special forms are recognised on the raw text, before percent-decoding,
%% so that `%2E' stays a binary `<<".">>' and `:' can be escaped as `%3A'.
parse_segment(<<".">>, _Original) ->
    ?THIS_KHEPRI_NODE;
parse_segment(<<"..">>, _Original) ->
    ?PARENT_KHEPRI_NODE;
parse_segment(<<"*">>, _Original) ->
    ?KHEPRI_WILDCARD_STAR;
parse_segment(<<"**">>, _Original) ->
    ?KHEPRI_WILDCARD_STAR_STAR;
parse_segment(<<$:, Name/binary>> = Segment, Original) ->
    Decoded = percent_decode(Name),
    try
        binary_to_atom(Decoded, utf8)
    catch
        error:_ ->
            %% Invalid UTF-8 after decoding, or an atom too long.
            ?INVALID_PATH(Original, segment_for_error(Segment, Original))
    end;
parse_segment(Segment, _Original) ->
    Decoded = percent_decode(Segment),
    case binary:match(Decoded, <<"*">>) of
        nomatch -> Decoded;
        _       -> glob_to_condition(Decoded)
    end.

%% The component named in an exception has the type of the caller's input.
segment_for_error(Segment, Original) when is_binary(Original) ->
    Segment;
segment_for_error(Segment, _Original) ->
    unicode:characters_to_list(Segment).

%% Each `*' matches any text; other characters are used as they are (a `.'
%% stays a regex `.'), as upstream does. The regex is a list of code points
%% (a list of bytes if the name is not valid UTF-8).
glob_to_condition(Decoded) ->
    Chars = case unicode:characters_to_list(Decoded) of
                List when is_list(List) -> List;
                _                       -> binary_to_list(Decoded)
            end,
    Regex = lists:flatmap(
              fun
                  ($*)  -> ".*";
                  (Char) -> [Char]
              end, Chars),
    #if_name_matches{regex = "^" ++ Regex ++ "$"}.

%% `%XX' with two hex digits (either case) becomes byte XX; any other `%' is
%% kept as it is.
-define(IS_HEX(Char), ((Char >= $0 andalso Char =< $9) orelse
                       (Char >= $A andalso Char =< $F) orelse
                       (Char >= $a andalso Char =< $f))).

percent_decode(Binary) ->
    percent_decode(Binary, <<>>).

percent_decode(<<$%, High, Low, Rest/binary>>, Acc)
  when ?IS_HEX(High) andalso ?IS_HEX(Low) ->
    Byte = hex_value(High) * 16 + hex_value(Low),
    percent_decode(Rest, <<Acc/binary, Byte>>);
percent_decode(<<Byte, Rest/binary>>, Acc) ->
    percent_decode(Rest, <<Acc/binary, Byte>>);
percent_decode(<<>>, Acc) ->
    Acc.

hex_value(Digit) when Digit >= $0 andalso Digit =< $9 -> Digit - $0;
hex_value(Digit) when Digit >= $A andalso Digit =< $F -> Digit - $A + 10;
hex_value(Digit) when Digit >= $a andalso Digit =< $f -> Digit - $a + 10.

%% -------------------------------------------------------------------
%% Formatting native paths.
%% -------------------------------------------------------------------

-spec to_string(NativePath) -> UnixPath when
      NativePath :: native_path(),
      UnixPath :: string().
%% @doc Converts a native path to a Unix-like path string.
%%
%% Atoms are written `:name'; atoms and binaries are percent-encoded: bytes of
%% their UTF-8 form other than `A-Z a-z 0-9 - _ ~' and `.' (except as the
%% first character) become `%XX' (upper-case hex). So the result is ASCII.
%%
%% Raises `?khepri_exception(invalid_path, #{path, component})' for a
%% component with no Unix-like form: a condition, or `?KHEPRI_ROOT_NODE'
%% anywhere but in first position (where it is dropped).

to_string(Path) when is_list(Path) ->
    case list_kind(Path) of
        improper -> ?INVALID_PATH(Path);
        _        -> format(Path, Path)
    end;
to_string(NotPath) ->
    ?INVALID_PATH(NotPath).

-spec to_binary(NativePath) -> UnixPath when
      NativePath :: native_path(),
      UnixPath :: binary().
%% @doc Converts a native path to a Unix-like path binary.
%%
%% It is the UTF-8 (here ASCII) binary of {@link to_string/1}.

to_binary(Path) ->
    list_to_binary(to_string(Path)).

format([], _Path) ->
    "/";
format([?KHEPRI_ROOT_NODE | Components], Path) ->
    %% An explicit root marker says nothing more than the leading `/'.
    "/" ++ join(Components, Path);
format([?THIS_KHEPRI_NODE], _Path) ->
    ".";
format([?THIS_KHEPRI_NODE, Next | _] = Components, Path)
  when is_atom(Next) orelse (is_binary(Next) andalso Next =/= <<>>) ->
    %% The parser adds `?THIS_KHEPRI_NODE' back in front of a relative path
    %% starting with a name, so it goes without saying.
    join(tl(Components), Path);
format([?THIS_KHEPRI_NODE | _] = Components, Path) ->
    %% Kept when followed by `<<>>' (the path would start with `/' and read
    %% as absolute) or by a special component.
    join(Components, Path);
format([?PARENT_KHEPRI_NODE | _] = Components, Path) ->
    join(Components, Path);
format(Components, Path) ->
    "/" ++ join(Components, Path).

%% A trailing `/' is ignored by the parser, so an empty last component needs
%% one more `/' to survive: `[<<"a">>, <<>>]' is `"/a//"'.
join(Components, Path) ->
    Strings = [component_to_string(Component, Path)
               || Component <- Components],
    Joined = lists:join($/, Strings),
    case lists:last([first | Components]) of
        <<>> -> lists:flatten([Joined, $/]);
        _    -> lists:flatten(Joined)
    end.

component_to_string(?THIS_KHEPRI_NODE, _Path) ->
    ".";
component_to_string(?PARENT_KHEPRI_NODE, _Path) ->
    "..";
component_to_string(Name, _Path) when is_atom(Name) ->
    [$: | percent_encode(atom_to_binary(Name, utf8))];
component_to_string(Name, _Path) when is_binary(Name) ->
    percent_encode(Name);
component_to_string(Component, Path) ->
    ?INVALID_PATH(Path, Component).

percent_encode(Binary) ->
    percent_encode(Binary, true).

percent_encode(<<Byte, Rest/binary>>, IsFirst) ->
    Encoded = case is_unreserved(Byte, IsFirst) of
                  true  -> [Byte];
                  false -> [$%, hex_digit(Byte bsr 4), hex_digit(Byte band 15)]
              end,
    Encoded ++ percent_encode(Rest, false);
percent_encode(<<>>, _IsFirst) ->
    [].

%% A leading `.' is encoded so that names such as `.' and `..' never read as
%% special components.
is_unreserved(Byte, _IsFirst)
  when (Byte >= $A andalso Byte =< $Z) orelse
       (Byte >= $a andalso Byte =< $z) orelse
       (Byte >= $0 andalso Byte =< $9) orelse
       Byte =:= $- orelse Byte =:= $_ orelse Byte =:= $~ ->
    true;
is_unreserved($., IsFirst) ->
    not IsFirst;
is_unreserved(_Byte, _IsFirst) ->
    false.

hex_digit(Nibble) when Nibble < 10 -> $0 + Nibble;
hex_digit(Nibble)                  -> $A + Nibble - 10.

%% -------------------------------------------------------------------
%% Pattern helpers.
%%
%% The helpers below (and compile/1) raise
%% `?khepri_exception(invalid_path, #{path => Pattern})' when a pattern
%% argument is not a proper list (not a head `function_clause'): the same
%% exception as from_string/1 and ensure_is_valid/1, so that a caller has
%% one error to expect whichever function met the bad input first. A malformed
%% `#if_all{}'/`#if_any{}' (its `conditions' not a proper list) inside a
%% pattern adds `component => ThatCondition', as is_valid/1 reports it.
%% -------------------------------------------------------------------

%% Raises `invalid_path' unless `Pattern' is a proper list.
ensure_proper_list(Pattern) ->
    case is_proper_list(Pattern) of
        true  -> ok;
        false -> ?INVALID_PATH(Pattern)
    end.

is_proper_list([_ | Rest]) -> is_proper_list(Rest);
is_proper_list([])         -> true;
is_proper_list(_)          -> false.

-spec combine_with_conditions(Pattern, Conditions) -> Pattern when
      Pattern :: native_pattern(),
      Conditions :: [khepri_condition:condition()].
%% @doc Adds conditions to the last component of a native pattern.
%%
%% The last component `C' is replaced by `#if_all{conditions = [C | Conditions]}'.
%% With `Conditions = []' the pattern is returned unchanged.
%%
%% Otherwise raises `?khepri_exception(invalid_path, #{path => Pattern})'
%% when `Pattern' is not a non-empty proper list (`[]', the root, has no
%% component to hold conditions), and adds `component => Combined' (the
%% `#if_all{}' it would build) when `Conditions' is not a proper list.

combine_with_conditions(Pattern, []) ->
    Pattern;
combine_with_conditions([_ | _] = Pattern, Conditions) ->
    ok = ensure_proper_list(Pattern),
    [Last | Reversed] = lists:reverse(Pattern),
    Combined = #if_all{conditions = [Last | Conditions]},
    case is_proper_list(Conditions) of
        true  -> lists:reverse([Combined | Reversed]);
        false -> ?INVALID_PATH(Pattern, Combined)
    end;
combine_with_conditions(Pattern, _Conditions) ->
    ?INVALID_PATH(Pattern).

-spec targets_specific_node(Pattern) -> Ret when
      Pattern :: native_pattern(),
      Ret :: {true, NativePath} | false,
      NativePath :: native_path().
%% @doc Tells whether a native pattern can match at most one node, known
%% without looking at the tree.
%%
%% Every component must name one node: a name or special component, an
%% `#if_all{}' holding a name (beside any other conditions) or an `#if_any{}'
%% whose alternatives all name the same node (see {@link
%% component_targets_specific_node/1}). Returns the native path with the
%% conditions stripped, e.g. `[foo, #if_all{conditions = [bar, #if_has_data{}]}]'
%% gives `{true, [foo, bar]}'; returns `false' otherwise.
%%
%% Single-node APIs use it to reject patterns that may match several nodes.
%%
%% Raises `?khepri_exception(invalid_path, #{path => Pattern})' when
%% `Pattern' is not a proper list, with `component => C' when `C' is an
%% `#if_all{}' or `#if_any{}' whose `conditions' is not a proper list.

targets_specific_node(Pattern) ->
    %% Checked first: the walk below may stop before an improper tail.
    ok = ensure_proper_list(Pattern),
    targets_specific_node(Pattern, [], Pattern).

targets_specific_node([Component | Rest], Names, Pattern) ->
    case component_targets_specific_node(Component, Pattern) of
        {true, Name} -> targets_specific_node(Rest, [Name | Names], Pattern);
        false        -> false
    end;
targets_specific_node([], Names, _Pattern) ->
    {true, lists:reverse(Names)}.

-spec component_targets_specific_node(PatternComponent) -> Ret when
      PatternComponent :: pattern_component(),
      Ret :: {true, Component} | false,
      Component :: component().
%% @doc Tells whether a pattern component matches at most one node name.
%%
%% A name or special component targets itself. A condition targets a name
%% when {@link component_targets_specific_siblings/1} reduces it to exactly
%% that one name. `#if_not{}' and conditions on anything but the name never
%% do.
%%
%% Raises `?khepri_exception(invalid_path, #{path => Component, component =>
%% C})' when `C' (`Component' itself or an `#if_all{}'/`#if_any{}' inside
%% it) has `conditions' which is not a proper list.

component_targets_specific_node(Component) ->
    component_targets_specific_node(Component, Component).

%% `Path' is what an exception reports as `path'.
component_targets_specific_node(Component, Path) ->
    case component_targets_specific_siblings(Component, Path) of
        {true, [Name]} -> {true, Name};
        _              -> false
    end.

-spec component_targets_specific_siblings(PatternComponent) -> Ret when
      PatternComponent :: pattern_component(),
      Ret :: {true, [Component]} | false,
      Component :: component().
%% @doc Tells whether a pattern component can only match names from a known
%% list, and returns that list (sorted, without duplicates).
%%
%% <ul>
%% <li>a name or special component: `{true, [Component]}';</li>
%% <li>`#if_any{}': the union of its alternatives, each of which must be
%% bounded, e.g. `#if_any{conditions = [a, b]}' gives `{true, [a, b]}';</li>
%% <li>`#if_all{}': the names allowed by all of its bounded members (other
%% conditions only filter further);</li>
%% <li>anything else, or a set found to be empty: `false'.</li>
%% </ul>
%%
%% Inside a condition, `?THIS_KHEPRI_NODE' is always true, so it bounds
%% nothing.
%%
%% Raises `?khepri_exception(invalid_path, #{path => Component, component =>
%% C})' when `C' (`Component' itself or an `#if_all{}'/`#if_any{}' inside
%% it) has `conditions' which is not a proper list: whether it bounds the
%% names cannot be told.

component_targets_specific_siblings(Component) ->
    component_targets_specific_siblings(Component, Component).

component_targets_specific_siblings(Component, _Path)
  when ?IS_KHEPRI_PATH_COMPONENT(Component) ->
    {true, [Component]};
component_targets_specific_siblings(Condition, Path) ->
    case allowed_names(Condition, Path) of
        {names, [_ | _] = Names} -> {true, Names};
        _                        -> false
    end.

%% Returns `{names, SortedNames}' when the condition can only hold for those
%% names, `unbounded' otherwise.
allowed_names(Name, _Path) when ?IS_KHEPRI_NODE_ID(Name) ->
    {names, [Name]};
allowed_names(#if_all{conditions = Conditions} = Condition, Path) ->
    ok = ensure_proper_conditions(Conditions, Condition, Path),
    lists:foldl(
      fun(Inner, Acc) ->
              case {allowed_names(Inner, Path), Acc} of
                  {unbounded, _}              -> Acc;
                  {{names, _} = Names, unbounded} -> Names;
                  {{names, Names1}, {names, Names2}} ->
                      {names, ordsets:intersection(Names1, Names2)}
              end
      end, unbounded, Conditions);
allowed_names(#if_any{conditions = Conditions} = Condition, Path) ->
    ok = ensure_proper_conditions(Conditions, Condition, Path),
    lists:foldl(
      fun
          (_Inner, unbounded) ->
              unbounded;
          (Inner, {names, Names1}) ->
              case allowed_names(Inner, Path) of
                  {names, Names2} -> {names, ordsets:union(Names1, Names2)};
                  unbounded       -> unbounded
              end
      end, {names, []}, Conditions);
allowed_names(_Condition, _Path) ->
    unbounded.

ensure_proper_conditions(Conditions, Condition, Path) ->
    case is_proper_list(Conditions) of
        true  -> ok;
        false -> ?INVALID_PATH(Path, Condition)
    end.

%% -------------------------------------------------------------------
%% Validation.
%% -------------------------------------------------------------------

-spec is_valid(Pattern) -> IsValid when
      Pattern :: native_pattern(),
      IsValid :: true | {false, pattern_component() | term()}.
%% @doc Checks that a native pattern is well formed.
%%
%% Returns `true', or `{false, Component}' for the first invalid component
%% (see {@link is_valid_component/1}). A non-list or improper-list argument
%% gives `{false, Argument}'. A valid pattern is one the engine can take, so
%% that a bad one is refused when the call is made.

is_valid(Pattern) when is_list(Pattern) ->
    case list_kind(Pattern) of
        improper -> {false, Pattern};
        _        -> all_valid(Pattern)
    end;
is_valid(NotPattern) ->
    {false, NotPattern}.

-spec is_valid_component(PatternComponent) -> IsValid when
      PatternComponent :: pattern_component() | term(),
      IsValid :: true | {false, pattern_component() | term()}.
%% @doc Checks that one pattern component is well formed.
%%
%% A name or special component (`?KHEPRI_ROOT_NODE' included: realpath/1
%% resolves it) is valid; anything else must be a valid condition as {@link
%% khepri_condition:is_valid/1} tells, which is where the rules are. Returns
%% `true' or `{false, Culprit}', where `Culprit' is the innermost invalid
%% component.

is_valid_component(Component) when ?IS_KHEPRI_PATH_COMPONENT(Component) ->
    true;
is_valid_component(Condition) ->
    khepri_condition:is_valid(Condition).

all_valid([Component | Rest]) ->
    case is_valid_component(Component) of
        true  -> all_valid(Rest);
        False -> False
    end;
all_valid([]) ->
    true.

-spec ensure_is_valid(Pattern) -> ok | no_return() when
      Pattern :: native_pattern().
%% @doc Like {@link is_valid/1} but raises
%% `?khepri_exception(invalid_path, #{path => Pattern, component => C})'
%% instead of returning `{false, C}'.

ensure_is_valid(Pattern) ->
    case is_valid(Pattern) of
        true               -> ok;
        {false, Component} -> ?INVALID_PATH(Pattern, Component)
    end.

%% -------------------------------------------------------------------
%% Relative paths.
%% -------------------------------------------------------------------

-spec abspath(Pattern, BasePattern) -> Pattern when
      Pattern :: native_pattern(),
      BasePattern :: native_pattern().
%% @doc Makes a relative native pattern absolute.
%%
%% A pattern starting with `?THIS_KHEPRI_NODE' or `?PARENT_KHEPRI_NODE' is
%% appended to `BasePattern' and normalised with {@link realpath/1}; any other
%% pattern, including `[]', is already absolute and is returned unchanged.
%%
%% Raises `?khepri_exception(invalid_path, #{path => P})' when `Pattern', or
%% `BasePattern' when it is used, is not a proper list.

abspath([First | _] = Pattern, BasePattern)
  when First =:= ?THIS_KHEPRI_NODE orelse First =:= ?PARENT_KHEPRI_NODE ->
    %% Both checked here: `++' would fail on an improper base and make an
    %% improper result of an improper `Pattern'.
    ok = ensure_proper_list(Pattern),
    ok = ensure_proper_list(BasePattern),
    realpath(BasePattern ++ Pattern);
abspath(Pattern, _BasePattern) ->
    ok = ensure_proper_list(Pattern),
    Pattern.

-spec realpath(Pattern) -> Pattern when
      Pattern :: native_pattern().
%% @doc Normalises the special components of a native pattern.
%%
%% `?KHEPRI_ROOT_NODE' restarts from the root, `?THIS_KHEPRI_NODE' is dropped
%% and `?PARENT_KHEPRI_NODE' removes the previous component (it stays at the
%% root when there is none). Other components are kept.
%%
%% Raises `?khepri_exception(invalid_path, #{path => Pattern})' when
%% `Pattern' is not a proper list.

realpath(Pattern) ->
    realpath(Pattern, [], Pattern).

realpath([?KHEPRI_ROOT_NODE | Rest], _Reversed, Pattern) ->
    realpath(Rest, [], Pattern);
realpath([?THIS_KHEPRI_NODE | Rest], Reversed, Pattern) ->
    realpath(Rest, Reversed, Pattern);
realpath([?PARENT_KHEPRI_NODE | Rest], [_ | Reversed], Pattern) ->
    realpath(Rest, Reversed, Pattern);
realpath([?PARENT_KHEPRI_NODE | Rest], [], Pattern) ->
    realpath(Rest, [], Pattern);
realpath([Component | Rest], Reversed, Pattern) ->
    realpath(Rest, [Component | Reversed], Pattern);
realpath([], Reversed, _Pattern) ->
    lists:reverse(Reversed);
realpath(_NotAListOrImproperTail, _Reversed, Pattern) ->
    ?INVALID_PATH(Pattern).

-spec pattern_includes_root_node(Pattern) -> boolean() when
      Pattern :: native_pattern().
%% @doc Tells whether a native pattern designates the root node, i.e.
%% whether {@link realpath/1} reduces it to `[]'.
%%
%% Raises `?khepri_exception(invalid_path, #{path => Pattern})' when
%% `Pattern' is not a proper list (Unix-like paths are not parsed here).

pattern_includes_root_node(Pattern) ->
    realpath(Pattern) =:= [].
