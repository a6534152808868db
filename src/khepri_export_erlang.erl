%% @doc Import/export callback module storing items as Erlang terms in text
%% (SPEC 2.13, 4.10).
%%
%% Each item is written as `io_lib:format("~0p.~n", [Item])': one term per
%% line, ending with a dot, e.g.
%% ```
%% {put,[users,<<"bob">>],{p_data,#{email => <<"b@x">>}},#{}}.
%% '''
%% and read back with `io:read/3'.
%%
%% `ModulePriv', as given to `khepri:export'/`khepri:import', is either:
%% <ul>
%% <li>a file name (string, binary or atom): the file is created (or
%% truncated), written as UTF-8 and closed at the end, or deleted if the
%% export is aborted; such a file can also be read with `file:consult/1'.
%% On import, a `coding:' comment on the first lines is honoured (UTF-8
%% otherwise);</li>
%% <li>an open IO device (a pid, `standard_io' or `standard_error'): it is
%% written with `io:put_chars/2' and read with `io:read/3', so its own
%% encoding applies both ways, and it is left open.</li>
%% </ul>
%%
%% Terms without a text form cannot go through this module: `write/2'
%% returns `{error, {unsupported_term, Term}}' when an item contains a pid, a
%% port, a reference or a fun other than `fun M:F/A', and writes nothing of
%% that batch. (The export itself writes stored procedures as binaries, SPEC
%% 4.10, so this only happens for such terms stored as data.)

-module(khepri_export_erlang).

-behaviour(khepri_import_export).

-export([open_write/1,
         write/2,
         commit_write/1,
         abort_write/1,

         open_read/1,
         read/1,
         close_read/1]).

%% `read/1' returns once the items it read add up to this many bytes (in
%% external term format): large enough to amortize the calls, small enough
%% to bound the memory of one batch.
-define(READ_CHUNK_BYTES, 100 * 1024).

-type write_state() :: #{fd := io:device(),
                         filename => file:name_all()}.
%% `filename' is present when this module opened the file.

-type read_state() :: #{fd := io:device(),
                        location := erl_anno:location(),
                        filename => file:name_all()}.
%% `location' is where `io:read/3' resumes (for error positions).

-export_type([write_state/0, read_state/0]).

%% -------------------------------------------------------------------
%% Export.
%% -------------------------------------------------------------------

-spec open_write(FilenameOrDevice) -> Ret when
      FilenameOrDevice :: file:name_all() | io:device(),
      Ret :: {ok, write_state()} | {error, any()}.
%% @doc Opens (creates or truncates) the file to export to, or takes an open
%% IO device.
%%
%% Returns `{error, Reason}' from `file:open/2', or `{error, badarg}' for an
%% argument which is neither a file name nor an IO device.

open_write(Target) ->
    case classify(Target) of
        device ->
            {ok, #{fd => Target}};
        filename ->
            %% Only this module writes to it: a delayed write groups the many
            %% small writes; their errors surface at commit.
            case file:open(Target, [write, binary, delayed_write]) of
                {ok, Fd}           -> {ok, #{fd => Fd, filename => Target}};
                {error, _} = Error -> Error
            end;
        invalid ->
            {error, badarg}
    end.

-spec write(WriteState, BackupItems) -> Ret when
      WriteState :: write_state(),
      BackupItems :: [khepri_import_export:backup_item()],
      Ret :: {ok, WriteState} | {error, any()}.
%% @doc Writes items, one `~0p' term per line.
%%
%% Returns `{error, {unsupported_term, Term}}' (and writes none of the
%% items) if one of them contains a term which cannot be read back from its
%% text (pid, port, reference, local fun); `{error, Reason}' if the file or
%% device fails.

write(State, BackupItems) ->
    case find_term_without_text(BackupItems) of
        {found, Term} ->
            {error, {unsupported_term, Term}};
        none ->
            Text = [io_lib:format("~0p.~n", [Item]) || Item <- BackupItems],
            case put_text(State, Text) of
                ok                 -> {ok, State};
                {error, _} = Error -> Error
            end
    end.

%% `~p' escapes characters beyond Latin-1, so `Text' holds code points up
%% to 255. A file this module opened gets them as UTF-8 (what
%% `file:consult/1' expects by default); a device gets them through the IO
%% protocol, which encodes them as the device is set up to.
put_text(#{fd := Fd, filename := _}, Text) ->
    file:write(Fd, unicode:characters_to_binary(Text));
put_text(#{fd := Device}, Text) ->
    try
        io:put_chars(Device, Text)
    catch
        error:Reason -> {error, Reason}
    end.

-spec commit_write(WriteState) -> Ret when
      WriteState :: write_state(),
      Ret :: ok | {error, any()}.
%% @doc Ends an export: the file this module opened is synced to disk and
%% closed (a device is left open).

commit_write(#{fd := Fd, filename := _}) ->
    %% A backup reported as written should survive a crash of the host.
    case file:datasync(Fd) of
        ok ->
            file:close(Fd);
        {error, _} = Error ->
            _ = file:close(Fd),
            Error
    end;
commit_write(#{fd := _Device}) ->
    ok.

-spec abort_write(WriteState) -> Ret when
      WriteState :: write_state(),
      Ret :: ok.
%% @doc Ends a failed export: the file this module opened is closed and
%% deleted, so no partial export is left behind (a device is left open and
%% untouched).

abort_write(#{fd := Fd, filename := Filename}) ->
    _ = file:close(Fd),
    _ = file:delete(Filename),
    ok;
abort_write(#{fd := _Device}) ->
    ok.

%% -------------------------------------------------------------------
%% Import.
%% -------------------------------------------------------------------

-spec open_read(FilenameOrDevice) -> Ret when
      FilenameOrDevice :: file:name_all() | io:device(),
      Ret :: {ok, read_state()} | {error, any()}.
%% @doc Opens the file to import from, or takes an open IO device.
%%
%% Returns `{error, Reason}' from `file:open/2', or `{error, badarg}' for an
%% argument which is neither a file name nor an IO device.

open_read(Source) ->
    case classify(Source) of
        device ->
            {ok, #{fd => Source, location => 1}};
        filename ->
            case file:open(Source, [read, read_ahead]) of
                {ok, Fd} ->
                    %% Files are written as UTF-8; a `coding:' comment (for
                    %% a file written by hand) takes precedence.
                    _ = epp:set_encoding(Fd, utf8),
                    {ok, #{fd => Fd, location => 1, filename => Source}};
                {error, _} = Error ->
                    Error
            end;
        invalid ->
            {error, badarg}
    end.

-spec read(ReadState) -> Ret when
      ReadState :: read_state(),
      Ret :: {ok, BackupItems, ReadState} | {error, any()},
      BackupItems :: [khepri_import_export:backup_item()].
%% @doc Reads the next items, about 100 KiB worth of them; `[]' means the
%% end was reached.
%%
%% A term that does not parse gives `{error, ErrorInfo}' (`{Location,
%% Module, Description}', as `io:read/3' reports it); a device error gives
%% `{error, Reason}'.

read(#{location := Location} = State) ->
    read(State, Location, [], 0).

read(State, Location, Items, Bytes) when Bytes >= ?READ_CHUNK_BYTES ->
    {ok, lists:reverse(Items), State#{location => Location}};
read(#{fd := Fd} = State, Location, Items, Bytes) ->
    case io:read(Fd, '', Location) of
        {ok, Item, EndLocation} ->
            read(State, EndLocation, [Item | Items],
                 Bytes + erlang:external_size(Item));
        {eof, EndLocation} ->
            {ok, lists:reverse(Items), State#{location => EndLocation}};
        eof ->
            {ok, lists:reverse(Items), State#{location => Location}};
        {error, ErrorInfo, _ErrorLocation} ->
            {error, ErrorInfo};
        {error, _} = Error ->
            Error
    end.

-spec close_read(ReadState) -> Ret when
      ReadState :: read_state(),
      Ret :: ok | {error, any()}.
%% @doc Ends an import: the file this module opened is closed (a device is
%% left open).

close_read(#{fd := Fd, filename := _}) ->
    file:close(Fd);
close_read(#{fd := _Device}) ->
    ok.

%% -------------------------------------------------------------------
%% Helpers.
%% -------------------------------------------------------------------

%% Atoms are file names (as upstream) except the standard IO device names.
classify(Pid) when is_pid(Pid) ->
    device;
classify(Name) when Name =:= standard_io orelse Name =:= standard_error ->
    device;
classify(Name) when is_list(Name) orelse is_binary(Name) orelse
                    is_atom(Name) ->
    filename;
classify(_Other) ->
    invalid.

%% Pids, ports and references print as `<0.1.0>', `#Port<...>', `#Ref<...>',
%% and local funs as `#Fun<...>': none of them reads back. An external fun
%% prints as `fun M:F/A', which does.
find_term_without_text(Term) when is_list(Term) ->
    find_in_list(Term);
find_term_without_text(Term) when is_tuple(Term) ->
    find_in_list(tuple_to_list(Term));
find_term_without_text(Term) when is_map(Term) ->
    find_in_list(maps:keys(Term) ++ maps:values(Term));
find_term_without_text(Term)
  when is_pid(Term) orelse is_port(Term) orelse is_reference(Term) ->
    {found, Term};
find_term_without_text(Term) when is_function(Term) ->
    case erlang:fun_info(Term, type) of
        {type, external} -> none;
        {type, local}    -> {found, Term}
    end;
find_term_without_text(_Term) ->
    none.

find_in_list([Head | Tail]) ->
    case find_term_without_text(Head) of
        none  -> find_in_list(Tail);
        Found -> Found
    end;
find_in_list([]) ->
    none;
find_in_list(ImproperTail) ->
    find_term_without_text(ImproperTail).
